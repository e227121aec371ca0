"""Real desktop hosts for the end-to-end layer: one small class per host (see `session`).

`HOSTS` lists them in the order they are tested. GNOME and KDE are slow to install and start, so
they run only with `scripts/test.sh --all-hosts` (which sets PORTTRAY_ALL_HOSTS=1).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.kit.hosts import gnome, kde, sway, tint2, xfce
from tests.kit.hosts.session import HostSession

ALL_HOSTS_ENV = "PORTTRAY_ALL_HOSTS"


@dataclass(frozen=True, slots=True)
class HostSpec:
    name: str
    start: Callable[[Path], HostSession]
    missing: Callable[[], list[str]]
    """The programs it needs that are not installed."""
    sni: bool = True
    """Whether the host is a StatusNotifierItem host (else XEmbed)."""
    all_hosts_only: bool = False
    """Run only with --all-hosts."""


HOSTS = [
    HostSpec("xfce", xfce.XfceHost, xfce.missing),
    HostSpec("tint2", tint2.Tint2Host, tint2.missing, sni=False),
    HostSpec("sway", sway.SwayHost, sway.missing),
    HostSpec("gnome", gnome.GnomeHost, gnome.missing, all_hosts_only=True),
    HostSpec("kde", kde.KdeHost, kde.missing, all_hosts_only=True),
]


def all_hosts() -> bool:
    """Whether the slow hosts (GNOME, KDE) are asked for."""
    return os.environ.get(ALL_HOSTS_ENV, "") not in ("", "0")
