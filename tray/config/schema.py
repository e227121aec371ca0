"""Settings as values: TOML text → a frozen `Config`, with errors that name the line and key. Pure.

Every key is optional and unknown keys are errors, so a typo is reported instead of silently doing
nothing. Rules are numbered from 1 in messages, in file order. tomllib gives no positions for
values, so the line of a bad key is found by a light scan of the text (`_line_of`), which is right
for the files people write by hand and falls back to the nearest header for exotic layouts.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from typing import Literal, TypeVar, cast, get_args

OnOpen = Literal["notify", "open-browser", "silent", "ignore"]
Address = Literal["127.0.0.1", "localhost"]
ON_OPEN: tuple[OnOpen, ...] = get_args(OnOpen)
ADDRESSES: tuple[Address, ...] = get_args(Address)
_TOP_KEYS = (
    "interval",
    "address",
    "notifications",
    "hide_system",
    "no_probe",
    "probe_others",
    "rules",
)
_RULE_KEYS = ("port", "ports", "match", "label", "on_open")
_TARGETS = ("port", "ports", "match")
_T = TypeVar("_T", bound=str)
Where = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """What to do when a server on some ports, or of some program, opens."""

    lo: int | None = None
    """The first port of the range (None for a `match` rule)."""
    hi: int | None = None
    """The last port of the range, inclusive."""
    pattern: re.Pattern[str] | None = None
    """Searched in the process name and in the command line (None for a port rule)."""
    label: str | None = None
    """A name to show instead of the guessed one."""
    on_open: OnOpen = "notify"
    """What happens when such a server opens."""

    def matches(self, port: int, name: str | None, cmdline: str) -> bool:
        """Whether this rule is about a server on `port` run by `name` with `cmdline`."""
        if self.pattern is not None:
            return bool((name and self.pattern.search(name)) or self.pattern.search(cmdline))
        return self.lo is not None and self.hi is not None and self.lo <= port <= self.hi


@dataclass(frozen=True, slots=True)
class Config:
    """The user's settings, defaults filled in."""

    interval: float = 0.5
    """Seconds between two looks at the socket table (0.1 to 60)."""
    address: Address = "127.0.0.1"
    """The host written in URLs."""
    notifications: bool = True
    """Whether opened servers are announced."""
    hide_system: bool = True
    """Hide listeners of other users' processes and of well-known system daemons."""
    no_probe: tuple[str, ...] | None = None
    """Process names never probed over HTTP; None means the built-in list."""
    probe_others: bool = False
    """Whether servers of other users (and of owners that cannot be seen) may be probed."""
    rules: tuple[Rule, ...] = ()
    """Per-port or per-program rules; the first that matches wins."""


DEFAULT = Config()


class ConfigError(Exception):
    """A settings file that cannot be used, with where and why, for a person to read."""

    def __init__(self, path: str, line: int | None, key: str | None, reason: str) -> None:
        super().__init__(path, line, key, reason)
        self.path, self.line, self.key, self.reason = path, line, key, reason

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key}: {self.reason}" if self.key else f"{where}: {self.reason}"


def rule_for(config: Config, port: int, name: str | None, cmdline: str) -> Rule | None:
    """The first rule that matches the server, or None."""
    return next((r for r in config.rules if r.matches(port, name, cmdline)), None)


class _Bad(Exception):
    """A bad value found while reading the parsed table; turned into a ConfigError with a line."""

    def __init__(self, where: Where, reason: str) -> None:
        super().__init__(where, reason)
        self.where, self.reason = where, reason


def parse(text: str, path: str = "config.toml") -> Config:
    """The settings in `text`; raises ConfigError naming `path`, the line and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(str(error), text, path) from None
    except RecursionError:
        raise ConfigError(path, None, None, "nested too deeply") from None
    try:
        return _config(data)
    except _Bad as bad:
        raise ConfigError(
            path, _line_of(text, bad.where), _key_name(bad.where), bad.reason
        ) from None


def _syntax_error(message: str, text: str, path: str) -> ConfigError:
    found = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if found:
        return ConfigError(path, int(found[1]), None, message[: found.start()])
    if message.endswith("(at end of document)"):
        return ConfigError(path, text.count("\n") + 1, None, message[:-21].rstrip())
    return ConfigError(path, None, None, message)


def _config(data: dict[str, object]) -> Config:
    _no_unknown_keys(data, _TOP_KEYS, ())
    interval = data.get("interval", DEFAULT.interval)
    if not _is_number(interval) or not 0.1 <= cast(float, interval) <= 60:
        raise _Bad(("interval",), f"expected seconds from 0.1 to 60, got {_show(interval)}")
    address = _choice(data, "address", ADDRESSES, DEFAULT.address, ())
    no_probe = data.get("no_probe")
    if no_probe is not None and not (
        isinstance(no_probe, list) and all(isinstance(n, str) for n in no_probe)
    ):
        raise _Bad(("no_probe",), f"expected an array of process names, got {_show(no_probe)}")
    rules = data.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise _Bad(("rules",), f"expected [[rules]] tables, got {_show(rules)}")
    return Config(
        interval=float(cast(float, interval)),
        address=address,
        notifications=_flag(data, "notifications", DEFAULT.notifications),
        hide_system=_flag(data, "hide_system", DEFAULT.hide_system),
        probe_others=_flag(data, "probe_others", DEFAULT.probe_others),
        no_probe=tuple(no_probe) if no_probe is not None else None,
        rules=tuple(_rule(r, i) for i, r in enumerate(rules, start=1)),
    )


def _rule(data: dict[str, object], index: int) -> Rule:
    at: Where = ("rules", index)
    _no_unknown_keys(data, _RULE_KEYS, at)
    targets = [k for k in data if k in _TARGETS]
    if len(targets) != 1:
        where = (*at, targets[1]) if targets else at
        raise _Bad(where, "needs exactly one of port, ports or match")
    label = data.get("label")
    if label is not None and not isinstance(label, str):
        raise _Bad((*at, "label"), f"expected a string, got {_show(label)}")
    on_open = _choice(data, "on_open", ON_OPEN, "notify", at)
    target, value = targets[0], data[targets[0]]
    if target == "match":
        return Rule(pattern=_pattern(value, (*at, target)), label=label, on_open=on_open)
    lo, hi = _port_range(value, (*at, target))
    return Rule(lo=lo, hi=hi, label=label, on_open=on_open)


def _pattern(value: object, where: Where) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise _Bad(where, f"expected a regular expression in a string, got {_show(value)}")
    try:
        return re.compile(value)
    except (re.error, RecursionError, OverflowError, ValueError) as error:
        raise _Bad(where, f"invalid regular expression: {error}") from None


def _port_range(value: object, where: Where) -> tuple[int, int]:
    if where[-1] == "port":
        if not _is_port(value):
            raise _Bad(where, f"expected a port number from 1 to 65535, got {_show(value)}")
        return cast(int, value), cast(int, value)
    found = re.fullmatch(
        r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", value if isinstance(value, str) else ""
    )
    lo, hi = (int(found[1]), int(found[2])) if found else (0, -1)
    if not (_is_port(lo) and _is_port(hi) and lo <= hi):
        raise _Bad(where, f'expected a range like "3000-3010" within 1-65535, got {_show(value)}')
    return lo, hi


def _no_unknown_keys(data: dict[str, object], known: tuple[str, ...], at: Where) -> None:
    for key in data:
        if key not in known:
            import difflib  # only for a settings file with a mistake in it

            close = difflib.get_close_matches(key, known, n=1)
            hint = f'did you mean "{close[0]}"?' if close else f"expected one of {', '.join(known)}"
            raise _Bad((*at, key), f"unknown key; {hint}")


def _choice(
    data: dict[str, object], key: str, options: tuple[_T, ...], default: _T, at: Where
) -> _T:
    value = data.get(key, default)
    if value not in options:
        raise _Bad((*at, key), f"expected one of {', '.join(options)}, got {_show(value)}")
    return value


def _flag(data: dict[str, object], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _Bad((key,), f"expected true or false, got {_show(value)}")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_port(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def _show(value: object) -> str:
    """A value as the user wrote it in TOML, roughly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "an array"
    return "a table" if isinstance(value, dict) else "a date or time"


def _key_name(where: Where) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")


_HEADER = re.compile(r"\s*\[(\[?)\s*([A-Za-z0-9_\-\"' .]+?)\s*\]")
_KEY = re.compile(r"\s*[\"']?([A-Za-z0-9_\-]+)[\"']?\s*[=.]")


def _line_of(text: str, where: Where) -> int | None:
    """The line a bad key sits on, by a light scan: good for the files people write by hand."""
    section: Where = ()
    rules, fallback = 0, None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header[2].strip("\"' ")
            is_rule = name == "rules" and header[1] == "["
            rules += is_rule
            section = ("rules", rules) if is_rule else (name,)
            if section == where or (len(where) == 1 and name.split(".")[0] == where[0]):
                return number
            fallback = number if section == where[:2] else fallback
            continue
        key = _KEY.match(line)
        if key and section == where[:-1] and key[1] == where[-1]:
            return number
        if key and not section and key[1] == where[0] and fallback is None:
            fallback = number
    return fallback
