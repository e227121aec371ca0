"""The settings file: where it lives, reading it, adding a rule to it, noticing edits of it.

Writes keep the user's comments and order (tomlkit edits the document in place) and replace the
file atomically, so porttray and an editor never see half a file.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import AoT, Array

from tray.config.schema import DEFAULT, Config, ConfigError, _is_port, _line_of, parse

logger = logging.getLogger(__name__)


def default_path() -> Path:
    """Where the settings live: `config.toml` in the platform's config folder for porttray."""
    return Path(platformdirs.user_config_dir("porttray", appauthor=False)) / "config.toml"


def load(path: Path) -> Config:
    """The settings in the file at `path`; DEFAULT when there is no such file."""
    data = _read(path)
    return DEFAULT if data is None else parse(_decode(data, path), str(path))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(
            str(path), None, None, f"cannot read: {error.strerror or error}"
        ) from None


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(str(path), line, None, "not UTF-8 text") from None


def add_ignore_rule(path: Path, port: int) -> None:
    """Add `[[rules]] port = N, on_open = "ignore"`, keeping the file's comments and order.

    The rule goes last, unless an earlier rule may match the port (a range, a `match`): the first
    match wins, so it then goes first. Creates the file and its folder when missing; does nothing
    when that rule is already there. A symlinked file is edited where it points.
    Raises ConfigError when the file cannot be read or is not TOML (it is then left alone).
    """
    import tomlkit  # only this rarely used edit needs it (it costs ~3 MiB to keep loaded)
    import tomlkit.exceptions
    from tomlkit.items import AoT, Array

    if not _is_port(port):
        raise ValueError(f"not a port number: {port}")
    data = _read(path)
    text = "" if data is None else _decode(data, path)
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as error:
        raise ConfigError(str(path), error.line, None, "not valid TOML") from None
    rules = doc.get("rules")
    if not isinstance(rules, AoT | Array | None):
        raise ConfigError(str(path), _line_of(text, ("rules",)), "rules", "not [[rules]] tables")
    if rules and any(_ignores(r, port) for r in rules):
        logger.debug("port %d is already ignored in %s", port, path)
        return
    rule = {"port": port, "on_open": "ignore"}
    first = bool(rules) and any(_may_match(r, port) for r in rules or ())
    _insert_rule(doc, rules, rule, text, first=first)
    _write_atomically(path, tomlkit.dumps(doc))
    logger.info("added a rule to ignore port %d to %s", port, path)


def _insert_rule(
    doc: TOMLDocument,
    rules: AoT | Array | None,
    rule: dict[str, object],
    text: str,
    *,
    first: bool,
) -> None:
    """Put `rule` into the document's rules, in the style the file already uses: an inline
    array gets an inline table, [[rules]] get a table; `first` puts it ahead of the others."""
    import tomlkit
    from tomlkit.items import Array

    if isinstance(rules, Array):
        inline = tomlkit.inline_table()
        inline.update(rule)
        if first:
            rules.insert(0, inline)
        else:
            rules.append(inline)
    elif first and rules is not None:
        table = tomlkit.table()
        table.update(rule)
        table.add(tomlkit.nl())
        rules.insert(0, table)
    else:
        table = tomlkit.table()
        table.update(rule)
        before = rules[-1].as_string() if rules else text
        table.trivia.indent = "" if not before or before.endswith("\n\n") else "\n"
        if rules is None:
            doc.append("rules", tomlkit.aot())
        doc["rules"].append(table)


def _may_match(rule: object, port: int) -> bool:
    """Whether a rule might be about this port: a `match` rule, a range, or the port itself."""
    if not isinstance(rule, Mapping):
        return False
    return "match" in rule or "ports" in rule or rule.get("port") == port


def _ignores(rule: object, port: int) -> bool:
    return (
        isinstance(rule, Mapping) and rule.get("port") == port and rule.get("on_open") == "ignore"
    )


def _write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, so a reader sees the old text or the new, never half; a
    symlink is followed (dotfile managers link the file), so the link stays a link."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class ConfigWatcher:
    """Notices edits of the settings file cheaply, and keeps the last good settings.

    `check()` costs one `stat` while nothing changed. The first call always answers, so it can
    also serve as the initial load.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config = DEFAULT
        """The last good settings."""
        self._stamp: tuple[int, int, int] | str | None = "unseen"
        self._seen: bytes | str | None = "unseen"

    def check(self) -> tuple[Config, ConfigError | None] | None:
        """None when the file is unchanged; else the settings now in force and the file's error.

        A bad file gives the last good settings with its error, once per distinct bad content.
        A removed file gives the defaults.
        """
        stamp = self._stat()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            data = _read(self.path)
        except ConfigError as error:
            return self._answer(str(error), error)
        if data == self._seen:
            return None
        try:
            config = DEFAULT if data is None else parse(_decode(data, self.path), str(self.path))
        except ConfigError as error:
            return self._answer(data, error)
        self.config = config
        return self._answer(data, None)

    def _answer(
        self, seen: bytes | str | None, error: ConfigError | None
    ) -> tuple[Config, ConfigError | None] | None:
        if error is not None and seen == self._seen:
            return None
        self._seen = seen
        return self.config, error

    def _stat(self) -> tuple[int, int, int] | str | None:
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as error:
            return str(error)
        return (found.st_mtime_ns, found.st_size, found.st_ino)
