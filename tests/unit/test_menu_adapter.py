"""The pystray adapter, on pystray's dummy backend: golden menu text and click dispatch."""

from __future__ import annotations

from typing import Any

from tray import menu
from tray.backend import BACKENDS, load_pystray
from tray.model import Identity, ProcessInfo, Server
from tray.pystray_menu import to_pystray
from tray.state import AppState, apply_events, set_paused

pystray: Any = load_pystray(BACKENDS["dummy"])  # sets no PYSTRAY_BACKEND for later children

VITE = Server(
    5173,
    ("127.0.0.1",),
    10,
    ProcessInfo(10, name="node", user="ann", cmdline=("node", "vite")),
    identity=Identity(project="acme-web", protocol="http"),
)
API = Server(8000, ("0.0.0.0",), 11, ProcessInfo(11, name="python3", user="bob"))

GOLDEN = """\
    :5173  node — acme-web =>
        Open in browser
        Copy address
        Copy localhost URL
        - - - -
        Copy PID (10)
        Copy command line
        Hide port 5173
        Stop server =>
            Yes, stop node (pid 10)
    :8000  python3  ⚠ =>
        ⚠ Reachable from the network
        Open in browser
        Copy address
        Copy localhost URL
        - - - -
        Copy PID (11)
        Hide port 8000
    - - - -
    Pause notifications
    Start at login
    Quit porttray"""


def build(state: AppState, clicks: list[menu.Action]) -> Any:
    return pystray.Menu(*to_pystray(pystray, menu.build(state, user="ann"), clicks.append))


def test_golden_menu_text() -> None:
    state = apply_events(AppState(), (VITE, API), [])
    assert str(build(state, [])) == GOLDEN


def test_empty_menu_keeps_static_items() -> None:
    text = str(build(AppState(), []))
    assert text.splitlines()[0].strip() == "No local servers"
    assert "Quit porttray" in text


def test_clicks_dispatch_the_item_action_and_checkbox_reflects_state() -> None:
    clicks: list[menu.Action] = []
    state = set_paused(apply_events(AppState(), (VITE,), []), True)
    built = build(state, clicks)
    icon = pystray.Icon("test", menu=built)
    vite = built.items[0]
    vite.submenu.items[0](icon)
    vite.submenu.items[1](icon)
    stop = next(i for i in vite.submenu.items if i.text == "Stop server")
    stop.submenu.items[0](icon)
    pause = next(i for i in built.items if i.text == "Pause notifications")
    assert pause.checked is True
    assert next(i for i in built.items if i.text == "Start at login").checked is False
    pause(icon)
    assert clicks == [
        menu.Action("open", "http://127.0.0.1:5173"),
        menu.Action("copy", "http://127.0.0.1:5173"),
        menu.Action("stop", server=(5173, 10)),
        menu.Action("pause"),
    ]
    disabled = [i for i in built.items if not i.enabled]
    assert disabled == []
