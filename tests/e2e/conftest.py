"""End-to-end fixtures: one private desktop for the package, and a leak guard that knows about it.

A test that takes `desktop` gets a `tests.kit.desktop.Desktop`: it passes `desktop.env` to the
programs it starts and looks at `desktop.tray`, `desktop.notifications`, `desktop.browser` and
`desktop.clipboard_text()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.desktop import Desktop, no_leaks_except_desktop, running_desktop, tools_missing


@pytest.fixture(scope="package")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    """A running private desktop (Xvfb, session bus, dunst, tray host, $BROWSER stand-in)."""
    if missing := tools_missing():
        pytest.skip(f"the desktop test stack needs {', '.join(missing)}")
    with running_desktop(tmp_path_factory.mktemp("desktop")) as running:
        yield running


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """The suite's leak guard, except for what belongs to the running desktop."""
    with no_leaks_except_desktop():
        yield


@pytest.fixture(autouse=True)
def settings_kept(request: pytest.FixtureRequest) -> Iterator[None]:
    """The desktop's settings file as each test found it: a rule one test writes ("Hide port N")
    must not hide a server of a later one that happens to get port N."""
    if "desktop" not in request.fixturenames:
        yield
        return
    desktop: Desktop = request.getfixturevalue("desktop")
    path = Path(desktop.env["XDG_CONFIG_HOME"]) / "porttray" / "config.toml"
    saved = path.read_bytes() if path.exists() else None
    try:
        yield
    finally:
        if saved is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(saved)
