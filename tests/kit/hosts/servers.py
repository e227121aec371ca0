"""The tests' own servers on a real host, and the settings that make porttray show only them.

Other programs on the machine open and close ports all the time; every such change would move or
rebuild the menu under a test's pointer. The tests' servers carry a mark on their command line
and porttray's settings list only marked servers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.helpers.servers import http_server
from tests.kit.sni_host import MenuNode

SERVER_MARK = "porttray-host-server"
"""In the command line of the tests' own servers (see `serve`): settings show only those."""
DEFAULT_TITLE = "Host demo"
SETTINGS = f"""# Other programs open and close ports all the time: show only the tests' own.
[[rules]]
match = "{SERVER_MARK}"
on_open = "notify"

[[rules]]
ports = "1-65535"
on_open = "ignore"
"""


@contextlib.contextmanager
def serve(tmp: Path, title: str = "", body: str = "") -> Iterator[int]:
    """A test's own web server (marked so porttray's settings show it); its port."""
    root = tmp / SERVER_MARK
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(f"<title>{title or DEFAULT_TITLE}</title>{body}")
    with http_server(root, named=True) as (_, port):
        yield port


def _node(label: str, children: tuple[MenuNode, ...] = ()) -> MenuNode:
    shown = "submenu" if children else ""
    return MenuNode(0, label, True, True, "standard", "", -1, shown, children)


def xembed_layout(servers: list[dict[str, Any]]) -> MenuNode:
    """The top of porttray's menu for `servers` (from `list --json`), for keyboard paths."""
    submenu = tuple(_node(t) for t in ("Open in browser", "Copy address", "Copy localhost URL"))
    entries = [_node(f":{s['port']} {s.get('title') or ''}", submenu) for s in servers]
    tail = [_node(t) for t in ("Pause notifications", "Start at login", "Quit porttray")]
    return _node("", tuple(sorted(entries, key=lambda n: int(n.label[1:].split()[0])) + tail))
