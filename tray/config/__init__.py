"""porttray's settings: a TOML file in the platform's config folder, read into a frozen `Config`.

`parse` (pure) and the values live in `tray.config.schema`; the file itself (`default_path`, `load`,
`add_ignore_rule`, `ConfigWatcher`) in `tray.config.file`. Everything is importable from here;
the file part is imported on first use, so that the pure core, which imports `tray.config.schema`
(and so runs this module), does not load file I/O with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from tray.config.file import ConfigWatcher, add_ignore_rule, default_path, load

_FILE = frozenset({"ConfigWatcher", "add_ignore_rule", "default_path", "load"})

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


def __getattr__(name: str) -> object:
    """`tray.config.file`'s names, imported when first asked for."""
    if name in _FILE:
        from tray.config import file

        return getattr(file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
