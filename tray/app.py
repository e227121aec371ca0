"""The tray application: the only module that imports pystray."""

from __future__ import annotations


def run_tray(*, interval: float | None = None, method: str | None = None) -> int:
    """Start the tray and block until Quit."""
    print("porttray: the tray is not available yet; try `porttray list` or `porttray watch`.")
    return 1
