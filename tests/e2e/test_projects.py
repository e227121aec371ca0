"""Servers of several projects on the real tray: grouped under a heading per project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.desktop import Desktop
from tests.e2e.tray_driver import Tray, running_tray
from tests.helpers.servers import http_server

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
