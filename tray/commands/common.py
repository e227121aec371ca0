"""What the terminal commands share: the user's settings, and which servers they show."""

from __future__ import annotations

import sys

from tray import config, rules, users
from tray.config import Config
from tray.model import Server


def load_settings() -> Config:
    """The user's settings; a bad file is reported on stderr and the defaults are used."""
    try:
        return config.load(config.default_path())
    except config.ConfigError as exc:
        print(f"porttray: ignoring the settings file: {exc}", file=sys.stderr)
        return config.DEFAULT


def shown_servers(
    servers: tuple[Server, ...], settings: Config, *, include_all: bool
) -> tuple[Server, ...]:
    """The servers the settings show to this user (all of them with `--all`)."""
    if include_all:
        return servers
    me, uid = users.real_user(), users.real_uid()
    return tuple(s for s in servers if rules.shown(settings, s, me, uid))
