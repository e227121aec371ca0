"""Project groups and the history file on the real tray: grouping by project, Recently closed
across a restart, a damaged history file kept aside and said."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.servers import http_server
from tests.kit.desktop import Desktop
from tests.kit.tray_driver import Tray, running_tray

pytestmark = pytest.mark.e2e


@pytest.fixture
def tray(desktop: Desktop) -> Iterator[Tray]:
    with running_tray(desktop) as running:
        yield running


def test_servers_of_two_projects_are_grouped(tray: Tray, tmp_path: Path) -> None:
    for name in ("zeta-shop", "alpha-api"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "package.json").write_text(f'{{"name": "{name}"}}')
    with (
        http_server(tmp_path / "zeta-shop") as (_, shop),
        http_server(tmp_path / "alpha-api") as (_, api),
    ):
        tray.wait_for_label("alpha-api")
        tray.wait_for_label("zeta-shop")
        texts = [n.text for n in tray.layout().children]
        heading_api, heading_shop = texts.index("alpha-api"), texts.index("zeta-shop")
        assert heading_api < heading_shop
        assert any(t.startswith(f":{api} ") for t in texts[heading_api:heading_shop])
        assert any(t.startswith(f":{shop} ") for t in texts[heading_shop:])
        (node,) = [n for n in tray.layout().children if n.text == "alpha-api"]
        assert not node.enabled


def test_recently_closed_survives_a_restart(desktop: Desktop, tmp_path: Path) -> None:
    env = {**desktop.env, "XDG_STATE_HOME": str(tmp_path / "state")}
    (tmp_path / "site").mkdir()
    with running_tray(desktop, env) as tray, http_server(tmp_path / "site") as (server, port):
        tray.wait_for_label(f":{port} ")
        server.terminate()
        tray.wait_for_label(f":{port} ", present=False)
        tray.wait_for_label("Recently closed")
    with running_tray(desktop, env) as again:
        recent = again.find("Recently closed")
        assert recent is not None
        assert any(c.text.startswith(f":{port} ") for c in recent.children)


def test_a_damaged_history_is_kept_aside_and_said(desktop: Desktop, tmp_path: Path) -> None:
    state = tmp_path / "state" / "porttray"
    state.mkdir(parents=True)
    (state / "history.sqlite3").write_bytes(b"\x00garbage, not SQLite" * 500)
    env = {**desktop.env, "XDG_STATE_HOME": str(tmp_path / "state")}
    notes = desktop.notifications
    mark = notes.count()
    with running_tray(desktop, env):
        note = notes.wait_for(lambda n: "history file" in n.body, timeout=10, since=mark)
    (aside,) = state.glob("history.sqlite3.unreadable-*")
    assert str(aside) in note.body
    assert aside.read_bytes() == b"\x00garbage, not SQLite" * 500
