"""A real Docker engine the tests start themselves: its own socket, data root and exec root under
a short temporary directory, and an image built offline `FROM scratch` with busybox-static.

dockerd needs root, so tests that use it carry the `root` marker and skip otherwise. The daemon is
started detached (`setsid -f`), so it is not a child of the test process (the suite's leak guard
counts children) and one daemon serves a whole module; `stop()` ends it through its pid file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest

from tests.kit.wait import wait_for

IMAGE = "porttray-test-httpd"
BUSYBOX = "/bin/busybox"
BRIDGE = "ptbr0"
"""The test daemons' own bridge (one daemon runs at a time)."""
BRIDGE_NET = "10.213.77.1/24"
DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/mkdir", "-p", "/www"]
RUN ["/bin/sh", "-c", "echo '<title>Acme Shop</title>' > /www/index.html"]
CMD ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"]
"""


def require_docker() -> None:
    """Skip unless this is root on a machine with dockerd, the docker CLI and busybox-static."""
    if os.geteuid() != 0:
        pytest.skip("starting dockerd needs root (scripts/test.sh runs `-m root` as root)")
    for tool in ("dockerd", "docker"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/setup.sh --test installs docker.io)")
    if not Path(BUSYBOX).exists():
        pytest.skip("busybox-static is not installed")


def short_dir(prefix: str) -> Path:
    """A directory with a short path: unix socket paths are limited to 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)  # a normal user may reach the socket inside (its own mode decides)
    return path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Dockerd:
    """One dockerd; `extra` are its further options (`--userland-proxy=false`)."""

    def __init__(self, root: Path, data: Path, *extra: str) -> None:
        self.root = root
        self.sock = root / "docker.sock"
        self.host = f"unix://{self.sock}"
        self._pidfile = root / "dockerd.pid"
        self._args = [
            "dockerd",
            "--host", self.host,
            "--data-root", str(data),
            "--exec-root", str(root / "x"),
            "--pidfile", str(self._pidfile),
            "--bridge", BRIDGE,
            *extra,
        ]  # fmt: skip

    def _bridge_up(self) -> None:
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
        for command in (
            ["ip", "link", "add", BRIDGE, "type", "bridge"],
            ["ip", "addr", "add", BRIDGE_NET, "dev", BRIDGE],
            ["ip", "link", "set", BRIDGE, "up"],
        ):
            subprocess.run(command, capture_output=True, check=True)

    def start(self) -> None:
        """Start the daemon on a bridge of its own (so a machine-wide Docker's docker0 is left
        alone) and wait until it answers."""
        self._bridge_up()
        with (self.root / "dockerd.log").open("ab") as log:
            subprocess.run(["setsid", "-f", *self._args], stdout=log, stderr=log, check=True)
        if not wait_for(self._answers, 60, 0.2):
            self.stop()
            log_text = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"dockerd did not start:\n{log_text}")

    def _answers(self) -> bool:
        run = subprocess.run(
            ["docker", "--host", self.host, "version"], capture_output=True, check=False
        )
        return run.returncode == 0

    def docker(self, *args: str) -> str:
        """Run the docker CLI against this daemon (fixtures only: porttray never does)."""
        run = subprocess.run(
            ["docker", "--host", self.host, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if run.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {run.stderr.strip()}")
        return run.stdout.strip()

    def build(self) -> None:
        """Build the httpd image unless the data root already has it."""
        try:
            self.docker("image", "inspect", IMAGE)
            return
        except AssertionError:
            pass
        context = Path(tempfile.mkdtemp(prefix="ptimg", dir=self.root))
        shutil.copy(BUSYBOX, context / "busybox")
        (context / "Dockerfile").write_text(DOCKERFILE)
        self.docker("build", "-q", "-t", IMAGE, str(context))

    def run(self, name: str, *options: str) -> str:
        """Start a container of the test image (stopped within a second when asked)."""
        return self.docker("run", "-d", "--name", name, "--stop-timeout", "1", *options, IMAGE)

    @property
    def pid(self) -> int | None:
        """The daemon's pid while it runs."""
        try:
            pid = int(self._pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if psutil.pid_exists(pid) else None

    def stop(self) -> None:
        """Remove every container and end the daemon (SIGKILL if it dawdles)."""
        pid = self.pid
        if pid is None:
            return
        ids = self.docker("ps", "-aq").split() if self._answers() else []
        if ids:
            self.docker("rm", "-f", *ids)
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGTERM)
        if not wait_for(lambda: not psutil.pid_exists(pid), 30, 0.1):
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not psutil.pid_exists(pid), 10, 0.1)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
