"""porttray's settings: a TOML file in the platform's config folder, read into a frozen `Config`.

`parse` (pure) and the values live in `tray.config.schema`; the file itself (`default_path`, `load`,
`add_ignore_rule`, `ConfigWatcher`) in `tray.config.file`. Everything is importable from here.
"""

from __future__ import annotations

from tray.config.file import ConfigWatcher, add_ignore_rule, default_path, load
from tray.config.schema import (
    ADDRESSES,
    DEFAULT,
    ON_OPEN,
    Address,
    Config,
    ConfigError,
    OnOpen,
    Rule,
    parse,
    rule_for,
)

__all__ = [
    "ADDRESSES",
    "DEFAULT",
    "ON_OPEN",
    "Address",
    "Config",
    "ConfigError",
    "ConfigWatcher",
    "OnOpen",
    "Rule",
    "add_ignore_rule",
    "default_path",
    "load",
    "parse",
    "rule_for",
]
