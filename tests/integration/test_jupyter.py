"""Jupyter's URL from runtime files written here as Jupyter writes them; identify end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.servers import http_server
from tray.identify import identify
from tray.identify.jupyter import default_runtime_dirs, jupyter_url
from tray.model import ProcessInfo, Server

PID, PORT = 4242, 8888


def runtime_file(folder: Path, name: str, **info: Any) -> Path:
    """A runtime file like jupyter_server's, with `info` over the usual fields."""
    record = {
        "base_url": "/",
        "hostname": "localhost",
        "password": False,
        "pid": PID,
        "port": PORT,
        "root_dir": "/home/u/notebooks",
        "secure": False,
        "sock": "",
        "token": "",
        "url": f"http://localhost:{PORT}/",
        "version": "2.14.0",
    }
    record.update(info)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


# (fields over the defaults, URL expected)
URLS: list[tuple[dict[str, Any], str]] = [
    ({"token": "abc123"}, f"http://127.0.0.1:{PORT}/?token=abc123"),
    ({}, f"http://127.0.0.1:{PORT}/"),
    ({"base_url": "/user/ann/", "token": "t"}, f"http://127.0.0.1:{PORT}/user/ann/?token=t"),
    ({"base_url": "user/ann"}, f"http://127.0.0.1:{PORT}/user/ann/"),
    ({"base_url": 7}, f"http://127.0.0.1:{PORT}/"),
    ({"token": "a b&c=/"}, f"http://127.0.0.1:{PORT}/?token=a%20b%26c%3D%2F"),
    ({"token": None}, f"http://127.0.0.1:{PORT}/"),
    ({"hostname": "::1", "token": "t"}, f"http://[::1]:{PORT}/?token=t"),
    ({"hostname": "127.0.0.2"}, f"http://127.0.0.2:{PORT}/"),
    ({"hostname": "0.0.0.0"}, f"http://127.0.0.1:{PORT}/"),
    ({"hostname": "192.168.1.9"}, f"http://127.0.0.1:{PORT}/"),
    ({"hostname": "notebook.example.com"}, f"http://127.0.0.1:{PORT}/"),
    ({"secure": True, "token": "t"}, f"https://127.0.0.1:{PORT}/?token=t"),
]


@pytest.mark.parametrize(("fields", "url"), URLS)
def test_url_from_the_servers_own_file(tmp_path: Path, fields: dict[str, Any], url: str) -> None:
    runtime_file(tmp_path, f"jpserver-{PID}.json", **fields)
    assert jupyter_url(PID, PORT, [tmp_path]) == url


def test_the_classic_notebook_file_is_read_too(tmp_path: Path) -> None:
    runtime_file(tmp_path, f"nbserver-{PID}.json", token="classic")
    assert jupyter_url(PID, PORT, [tmp_path]) == f"http://127.0.0.1:{PORT}/?token=classic"


def test_a_probe_that_saw_tls_sets_the_scheme(tmp_path: Path) -> None:
    runtime_file(tmp_path, f"jpserver-{PID}.json", token="t")
    url = jupyter_url(PID, PORT, [tmp_path], scheme="https")
    assert url == f"https://127.0.0.1:{PORT}/?token=t"


def test_the_servers_loopback_host_is_used_when_the_file_names_none(tmp_path: Path) -> None:
    runtime_file(tmp_path, f"jpserver-{PID}.json", hostname="")
    assert jupyter_url(PID, PORT, [tmp_path], host="::1") == f"http://[::1]:{PORT}/"


def test_a_file_for_the_same_port_stands_in_newest_first(tmp_path: Path) -> None:
    old = runtime_file(tmp_path, "jpserver-100.json", pid=100, token="old")
    runtime_file(tmp_path, "jpserver-101.json", pid=101, token="new")
    runtime_file(tmp_path, "jpserver-102.json", pid=102, port=PORT + 1, token="other-port")
    runtime_file(tmp_path, "kernel-abc.json", port=PORT, token="a kernel")
    os.utime(old, (1_000_000, 1_000_000))
    assert jupyter_url(PID, PORT, [tmp_path]) == f"http://127.0.0.1:{PORT}/?token=new"
    assert (
        jupyter_url(PID, PORT + 1, [tmp_path]) == f"http://127.0.0.1:{PORT + 1}/?token=other-port"
    )
    assert jupyter_url(PID, PORT + 2, [tmp_path]) is None


def test_the_pid_file_of_another_port_does_not_count(tmp_path: Path) -> None:
    runtime_file(tmp_path, f"jpserver-{PID}.json", port=PORT + 5, token="wrong")
    assert jupyter_url(PID, PORT, [tmp_path]) is None


def test_the_first_directory_holding_the_file_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    runtime_file(second, f"jpserver-{PID}.json", token="second")
    assert jupyter_url(PID, PORT, [first, second]) == f"http://127.0.0.1:{PORT}/?token=second"
    runtime_file(first, f"jpserver-{PID}.json", token="first")
    assert jupyter_url(PID, PORT, [first, second]) == f"http://127.0.0.1:{PORT}/?token=first"


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b'"a string"', b"\xff\xfe\x00", b"", b"null"]
)
def test_malformed_files_give_none(tmp_path: Path, content: bytes) -> None:
    (tmp_path / f"jpserver-{PID}.json").write_bytes(content)
    (tmp_path / "jpserver-1.json").write_bytes(content)
    assert jupyter_url(PID, PORT, [tmp_path]) is None


def test_a_malformed_pid_file_falls_back_to_the_port(tmp_path: Path) -> None:
    (tmp_path / f"jpserver-{PID}.json").write_bytes(b"{broken")
    runtime_file(tmp_path, "jpserver-77.json", pid=77, token="by-port")
    assert jupyter_url(PID, PORT, [tmp_path]) == f"http://127.0.0.1:{PORT}/?token=by-port"


def test_unreadable_files_and_missing_folders_give_none(tmp_path: Path) -> None:
    (tmp_path / f"jpserver-{PID}.json").mkdir()  # a folder where the file should be
    (tmp_path / "jpserver-5.json").symlink_to(tmp_path / "jpserver-5.json")  # a symlink loop
    assert jupyter_url(PID, PORT, [tmp_path, tmp_path / "missing"]) is None
    assert jupyter_url(PID, PORT, []) is None


def test_default_folders_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "XDG_DATA_HOME", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home_runtime = tmp_path / "home" / ".local" / "share" / "jupyter" / "runtime"
    assert default_runtime_dirs()[0] == home_runtime
    runtime_file(home_runtime, f"jpserver-{PID}.json", token="home")
    assert jupyter_url(PID, PORT) == f"http://127.0.0.1:{PORT}/?token=home"

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "custom"))
    assert default_runtime_dirs()[0] == tmp_path / "custom"
    runtime_file(tmp_path / "custom", f"jpserver-{PID}.json", token="custom")
    assert jupyter_url(PID, PORT) == f"http://127.0.0.1:{PORT}/?token=custom"

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert tmp_path / "xdg" / "jupyter" / "runtime" in default_runtime_dirs()


def test_identify_gives_jupyter_its_token_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site, notebooks = tmp_path / "site", tmp_path / "notebooks"
    site.mkdir()
    notebooks.mkdir()
    (site / "index.html").write_text("<title>JupyterLab</title>", encoding="utf-8")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    log = tmp_path / "requests.log"
    with http_server(site, log=log) as (proc, port):
        runtime_file(tmp_path / "runtime", f"jpserver-{proc.pid}.json", port=port, token="s3cret")
        process = ProcessInfo(
            pid=proc.pid,
            name="jupyter-lab",
            cmdline=("/usr/bin/python3", "/usr/local/bin/jupyter-lab", "--no-browser"),
            cwd=str(notebooks),
        )
        identity = identify(Server(port, ("127.0.0.1",), proc.pid, process))
    assert identity.kind == "jupyter"
    assert identity.project == "notebooks"
    assert (identity.protocol, identity.status, identity.title) == ("http", 200, "JupyterLab")
    assert identity.open_url == f"http://127.0.0.1:{port}/?token=s3cret"
    requests = [line for line in log.read_text().splitlines() if '"GET ' in line]
    assert len(requests) == 1 and '"GET /?token=s3cret HTTP/1.1" 200' in requests[0]  # not "/"


def test_identify_leaves_other_kinds_without_a_jupyter_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    runtime_file(tmp_path, f"jpserver-{PID}.json", token="t")
    process = ProcessInfo(pid=PID, name="postgres", cmdline=("postgres",))
    identity = identify(Server(PORT, ("127.0.0.1",), PID, process))
    assert identity.kind == "postgres"
    assert identity.open_url is None
