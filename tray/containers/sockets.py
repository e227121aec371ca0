"""Where the container engine's API socket is, in the order the docker CLI itself looks.

`DOCKER_HOST` wins; then the active docker context (`DOCKER_CONTEXT`, else `currentContext` in
`~/.docker/config.json`, resolved through `~/.docker/contexts/meta/<sha256 of name>/meta.json`);
then the usual places of rootful and rootless Docker and of Podman. Only unix sockets are used:
porttray talks to nothing but this machine.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOTFUL = ("/var/run/docker.sock", "/run/podman/podman.sock")
CONFIG_LIMIT = 1 << 20
"""Bytes of a docker config or context file read at the most."""


@dataclass(frozen=True, slots=True)
class Located:
    """The socket to use, or why there is none."""

    path: str | None
    """The socket's path."""
    source: str
    """Where it came from ("DOCKER_HOST", "context shop", "default")."""
    problem: str | None = None
    """Why the configured engine cannot be used (a tcp:// DOCKER_HOST, a broken context)."""


def locate(env: Mapping[str, str] | None = None, home: Path | None = None) -> Located:
    """The engine socket for this user now (reads a few small files; no connection is made)."""
    env = os.environ if env is None else env
    host = env.get("DOCKER_HOST")
    if host:
        return _from_host(host, "DOCKER_HOST")
    context = _context(env, home)
    if isinstance(context, Located):
        return context
    for path in default_paths(env):
        if _is_socket(path):
            return Located(path, "default")
    return Located(None, "default")


def default_paths(env: Mapping[str, str]) -> list[str]:
    """Rootful Docker, rootless Docker, rootless Podman, rootful Podman."""
    paths = [ROOTFUL[0]]
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        paths += [f"{runtime}/docker.sock", f"{runtime}/podman/podman.sock"]
    paths.append(ROOTFUL[1])
    return paths


def _from_host(host: str, source: str) -> Located:
    if host.startswith("unix://"):
        return Located(host.removeprefix("unix://") or None, source)
    scheme = host.split("://", 1)[0]
    return Located(None, source, f"{source} uses {scheme}://; porttray reads only unix sockets")


def _context(env: Mapping[str, str], home: Path | None) -> Located | None:
    """The active context's socket; None for the default context (or no config at all)."""
    config_dir = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else None
    config_dir = config_dir or (home or Path.home()) / ".docker"
    name = env.get("DOCKER_CONTEXT")
    if not name:
        config = _read_json(config_dir / "config.json")
        name = config.get("currentContext") if isinstance(config, dict) else None
    if not isinstance(name, str) or name in ("", "default"):
        return None
    import hashlib  # only for a named context: most runs never load it

    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = _read_json(config_dir / "contexts" / "meta" / digest / "meta.json")
    host = _endpoint(meta)
    if host is None:
        return Located(None, f"context {name}", f"docker context {name!r} has no docker endpoint")
    return _from_host(host, f"context {name}")


def _endpoint(meta: object) -> str | None:
    if not isinstance(meta, dict):
        return None
    endpoints = meta.get("Endpoints")
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else None
    return host if isinstance(host, str) and host else None


def _read_json(path: Path) -> object:
    try:
        with path.open("rb") as file:
            return json.loads(file.read(CONFIG_LIMIT))
    except (OSError, ValueError):
        return None


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
