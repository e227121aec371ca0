"""porttray's own StatusNotifierItem seen from the bus: stable ids, only the signals a change
needs, one registration per watcher, and errors (not crashes) for a host's bad calls."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.conftest import wait_for
from tests.helpers.servers import http_server
from tests.kit.bus_monitor import BusMonitor, monitoring
from tests.kit.desktop import Desktop
from tests.kit.sni_host import DBUSMENU, MenuNode
from tests.kit.tray_driver import Tray, running_tray

pytestmark = pytest.mark.e2e


@pytest.fixture
def tray(desktop: Desktop) -> Iterator[Tray]:
    with running_tray(desktop) as running:
        yield running


@pytest.fixture
def bus(tray: Tray) -> Iterator[BusMonitor]:
    with monitoring(tray.desktop.bus_address, tray.item.bus_name) as monitor:
        yield monitor


def ids(node: MenuNode) -> dict[str, int]:
    """Displayed text → id, for a server's entry and its submenu."""
    return {n.text: n.id for n in node.walk() if n.type != "separator"}


def menu(tray: Tray) -> DBusAddress:
    return DBusAddress("/MenuBar", tray.item.bus_name, DBUSMENU)


def settle(tray: Tray) -> None:
    """Two round trips through porttray: whatever it was about to send has been sent."""
    tray.layout()
    tray.layout()


def test_the_tray_runs_without_gtk(tray: Tray) -> None:
    maps = Path(f"/proc/{tray.proc.pid}/maps").read_text()
    assert "libgtk" not in maps
    assert "libgobject" not in maps
    assert tray.desktop.tray.item_property("ItemIsMenu", tray.item) is True
    pixmaps = tray.desktop.tray.item_property("IconPixmap", tray.item)
    assert sorted(w for w, _h, _data in pixmaps) == [16, 22, 24, 32, 48, 64]


def test_a_new_server_while_the_menu_is_open_keeps_the_other_ids(
    tray: Tray, bus: BusMonitor, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "index.html").write_text("<title>First app</title>")
    (tmp_path / "b" / "index.html").write_text("<title>Second app</title>")
    with http_server(tmp_path / "a") as (_, first):
        tray.wait_for_label("First app")
        before = ids(tray.server_entry(first))
        settle(tray)
        bus.clear()
        with http_server(tmp_path / "b") as (_, second):
            tray.wait_for_label("Second app")
            settle(tray)
            after = tray.layout()
            assert ids(tray.server_entry(first)) == before
            new_ids = set(ids(tray.server_entry(second)).values())
            layouts = bus.members("LayoutUpdated")
            assert layouts, bus.seen
            assert {s.body[1] for s in layouts} == {0}  # the root, where the entry was added
            for signal in bus.members("ItemsPropertiesUpdated"):
                changed = {item_id for item_id, _props in signal.body[0]}
                assert changed <= new_ids, (signal, after.render())


def test_a_rename_is_only_a_property_update(tray: Tray, bus: BusMonitor, tmp_path: Path) -> None:
    """The probe's title arrives after the entry: the label changes, the layout does not."""
    (tmp_path / "index.html").write_text("<title>Renamed later</title>")
    with http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        tray.wait_for_label("Renamed later")
        settle(tray)
        entry = tray.server_entry(port).id
        renames = [
            (s, props)
            for s in bus.members("ItemsPropertiesUpdated")
            for item_id, props in s.body[0]
            if item_id == entry
        ]
        layouts = bus.members("LayoutUpdated")
        if renames:  # the title came after the first scan had shown the port
            assert all(set(props) == {"label"} for _, props in renames), renames
            assert len(layouts) == 1, layouts  # only the entry's arrival


def test_a_scan_that_changes_nothing_visible_sends_nothing(
    desktop: Desktop, tmp_path: Path
) -> None:
    """Other programs' listeners come and go on this machine: settings hide every port but
    ours, so any signal in the quiet window would be porttray redrawing for nothing."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>Quiet</title>")
    home = tmp_path / "config"
    (home / "porttray").mkdir(parents=True)
    with http_server(tmp_path / "site") as (_, port):
        (home / "porttray" / "config.toml").write_text(
            f'[[rules]]\nport = {port}\non_open = "silent"\n\n'
            '[[rules]]\nports = "1-65535"\non_open = "ignore"\n'
        )
        env = {**desktop.env, "XDG_CONFIG_HOME": str(home)}
        with running_tray(desktop, env=env) as tray:
            tray.wait_for_label("Quiet")
            with monitoring(desktop.bus_address, tray.item.bus_name) as bus:
                settle(tray)
                bus.clear()
                # Three scan intervals and more with nothing new: nothing on the bus.
                noisy = ("LayoutUpdated", "ItemsPropertiesUpdated", "NewIcon", "NewTitle")
                assert not wait_for(lambda: bool(bus.members(*noisy)), 3.5), bus.seen
            assert [n.text for n in tray.layout().children if n.text.startswith(":")] == [
                tray.server_entry(port).text
            ]


def test_a_restarted_watcher_gets_exactly_one_registration(tray: Tray, bus: BusMonitor) -> None:
    host = tray.desktop.tray
    for _ in range(2):
        bus.clear()
        host.stop()
        host.start()
        tray.item = host.wait_for_item(timeout=15, pid=tray.proc.pid)
        settle(tray)
        registered = bus.members("RegisterStatusNotifierItem")
        assert len(registered) == 1, registered
        tray.wait_for_label("Quit porttray")


def test_bad_calls_from_a_host_get_errors_and_the_tray_goes_on(tray: Tray) -> None:
    host = tray.desktop.tray
    address = menu(tray)
    bad: list[tuple[str, str, tuple[object, ...]]] = [
        ("GetLayout", "iias", (987654, -1, [])),
        ("GetProperty", "is", (987654, "label")),
        ("Event", "isvu", (987654, "clicked", ("i", 0), 0)),
        ("AboutToShow", "i", (987654,)),
        ("GetLayout", "sss", ("0", "-1", "x")),  # wrong types
        ("Event", "i", (1,)),
        ("NoSuchMethod", "", ()),
    ]
    for method, signature, body in bad:
        with pytest.raises(RuntimeError):
            host._call(address, method, signature, body)
    groups = host._call(address, "EventGroup", "a(isvu)", ([(987654, "clicked", ("i", 0), 0)],))
    assert list(groups[0]) == [987654]
    assert tray.proc.poll() is None
    tray.wait_for_label("Quit porttray")


def test_a_click_on_an_entry_that_has_gone_does_nothing(tray: Tray, tmp_path: Path) -> None:
    with http_server(tmp_path) as (_, port):
        tray.wait_for_label(f":{port} ")
        copy = tray.find(port, "Copy address")
        assert copy is not None
    tray.wait_for_label(f":{port} ", present=False)
    with pytest.raises(RuntimeError, match="UnknownId"):
        tray.desktop.tray.click(copy.id, tray.item)
    assert tray.proc.poll() is None
    assert tray.desktop.clipboard_text() != f"http://127.0.0.1:{port}"


def test_a_middle_click_opens_the_newest_server(tray: Tray, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with http_server(tmp_path / "a") as (_, older):
        tray.wait_for_label(f":{older} ")
        with http_server(tmp_path / "b") as (_, newer):
            tray.wait_for_label(f":{newer} ")
            item = DBusAddress(
                "/StatusNotifierItem", tray.item.bus_name, "org.kde.StatusNotifierItem"
            )
            tray.desktop.tray._call(item, "SecondaryActivate", "ii", (0, 0))
            run = tray.desktop.browser.wait_for_run(f"http://127.0.0.1:{newer}", timeout=30)
            assert run.exit_code == 0


def test_activate_fails_so_hosts_show_the_menu_and_accessible_descriptions_exist(
    tray: Tray,
) -> None:
    """Plasma 5.27 opens an item's menu on a left click only when Activate fails; GNOME's
    extension reads IconAccessibleDesc and logs an error when it is missing."""
    item = DBusAddress("/StatusNotifierItem", tray.item.bus_name, "org.kde.StatusNotifierItem")
    with pytest.raises(RuntimeError, match="UnknownMethod"):
        tray.desktop.tray._call(item, "Activate", "ii", (10, 10))
    title = tray.desktop.tray.item_property("Title", tray.item)
    assert tray.desktop.tray.item_property("IconAccessibleDesc", tray.item) == title
    assert tray.desktop.tray.item_property("AttentionAccessibleDesc", tray.item) == title
    assert tray.proc.poll() is None
    tray.wait_for_label("Quit porttray")


def test_a_host_that_fetches_a_level_at_a_time_learns_when_its_submenu_is_stale(
    tray: Tray, tmp_path: Path
) -> None:
    """Plasma fetches each submenu apart (GetLayout(id, 1)) and again only when AboutToShow
    says so; a LayoutUpdated for the whole menu makes it refetch the top level only. A server
    that closes changes the top level and Recently closed at once."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with http_server(tmp_path / "a") as (_, first):
        tray.wait_for_label(f":{first} ")
    tray.wait_for_label("Recently closed")
    recent = tray.find("Recently closed")
    assert recent is not None, tray.layout().render()
    address = menu(tray)
    with contextlib.closing(open_dbus_connection(tray.desktop.bus_address)) as plasma:

        def call(method: str, signature: str, *body: Any) -> Any:
            msg = new_method_call(address, method, signature, body)
            return unwrap_msg(plasma.send_and_get_reply(msg, timeout=5))

        call("GetLayout", "iias", 0, 1, [])
        call("GetLayout", "iias", recent.id, 1, [])
        assert call("AboutToShow", "i", recent.id) == (False,)
        with http_server(tmp_path / "b") as (_, second):
            tray.wait_for_label(f":{second} ")
        assert wait_for(lambda: f":{second} " in gone_under(tray, recent.id), 10, 0.1)
        assert call("AboutToShow", "i", recent.id) == (True,)
        stale, unknown = call("AboutToShowGroup", "ai", [recent.id, 987654])
        assert recent.id in stale and unknown == [987654]
        _revision, raw = call("GetLayout", "iias", recent.id, 1, [])
        assert any(f":{second} " in str(child[1][1]["label"][1]) for child in raw[2])
        assert call("AboutToShow", "i", recent.id) == (False,)


def gone_under(tray: Tray, entry: int) -> str:
    node = tray.layout().find(lambda n: n.id == entry)
    return "" if node is None else "\n".join(c.text for c in node.children)
