"""Settings from the command line: config path/check, rules applied to list and watch, autostart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.servers import child_listening

PORTTRAY = [sys.executable, "-m", "tray"]


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    """An environment whose config directory is a fresh temporary folder."""
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTTRAY, *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def settings_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "porttray" / "config.toml"


def test_config_path_is_in_the_xdg_config_dir(xdg: dict[str, str]) -> None:
    done = run(xdg, "config", "path")
    assert done.returncode == 0
    assert done.stdout.strip() == str(settings_file(xdg))


def test_config_check_good_missing_and_bad(xdg: dict[str, str]) -> None:
    done = run(xdg, "config", "check")
    assert done.returncode == 0
    assert "defaults" in done.stdout
    path = settings_file(xdg)
    path.parent.mkdir(parents=True)
    path.write_text('interval = 1.0\n\n[[rules]]\nport = 3000\non_open = "loud"\n')
    done = run(xdg, "config", "check")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "config.toml:5" in done.stderr
    assert "rules[1].on_open" in done.stderr
    assert "loud" in done.stderr
    path.write_text('interval = 1.0\n[[rules]]\nport = 3000\non_open = "silent"\n')
    assert run(xdg, "config", "check").returncode == 0


def test_rules_hide_and_label_servers_in_list(xdg: dict[str, str]) -> None:
    with child_listening(["127.0.0.1"]) as hidden, child_listening(["127.0.0.1"]) as named:
        path = settings_file(xdg)
        path.parent.mkdir(parents=True)
        path.write_text(
            f'[[rules]]\nport = {hidden.port}\non_open = "ignore"\n\n'
            f'[[rules]]\nport = {named.port}\nlabel = "Shop frontend"\n'
        )
        shown = {o["port"]: o for o in json.loads(run(xdg, "list", "--json").stdout)}
        every = {o["port"]: o for o in json.loads(run(xdg, "list", "--json", "--all").stdout)}
    assert hidden.port not in shown
    assert hidden.port in every
    assert shown[named.port]["label"] == "Shop frontend"


def test_a_broken_settings_file_does_not_stop_list(xdg: dict[str, str]) -> None:
    path = settings_file(xdg)
    path.parent.mkdir(parents=True)
    path.write_text("this is not toml\n")
    with child_listening(["127.0.0.1"]) as child:
        done = run(xdg, "list", "--json")
    assert done.returncode == 0
    assert "ignoring the settings file" in done.stderr
    assert child.port in {o["port"] for o in json.loads(done.stdout)}


def test_autostart_on_status_off(xdg: dict[str, str]) -> None:
    entry = Path(xdg["XDG_CONFIG_HOME"]) / "autostart" / "porttray.desktop"
    assert run(xdg, "autostart", "status").stdout.startswith("start at login: off (")
    done = run(xdg, "autostart", "on")
    assert done.returncode == 0
    assert "start at login: on" in done.stdout
    assert "Exec=" in entry.read_text()
    assert run(xdg, "autostart", "status").stdout.startswith("start at login: on (")
    assert run(xdg, "autostart", "off").stdout.startswith("start at login: off (")
    assert not entry.exists()
