"""Settings: every key, every error with its line, and any text parsed (fuzzed) to a config or a
clear error. Edits to the file and its watcher are in test_config_file.py.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray.config import DEFAULT, Config, ConfigError, Rule, default_path, load, parse, rule_for


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


FULL = """
    # porttray settings
    interval = 2           # seconds
    address = "localhost"
    notifications = false
    hide_system = false
    no_probe = ["postgres", "redis-server"]

    [[rules]]
    port = 5173
    label = "Shop frontend"

    [[rules]]
    ports = "3000 - 3010"
    on_open = "open-browser"

    [[rules]]
    match = "jupyter"
    on_open = "silent"

    [[rules]]
    port = 9229
    on_open = "ignore"
"""


def test_missing_file_and_empty_text_give_the_defaults(tmp_path: Path) -> None:
    assert load(tmp_path / "nope.toml") == DEFAULT
    assert parse("") == DEFAULT == Config()
    assert DEFAULT.interval == 0.5
    assert DEFAULT.address == "127.0.0.1"
    assert DEFAULT.notifications is True
    assert DEFAULT.hide_system is True
    assert DEFAULT.no_probe is None
    assert DEFAULT.rules == ()


def test_every_key_is_read(tmp_path: Path) -> None:
    config = load(write(tmp_path / "config.toml", FULL))
    assert config.interval == 2.0
    assert isinstance(config.interval, float)
    assert config.address == "localhost"
    assert config.notifications is False
    assert config.hide_system is False
    assert config.no_probe == ("postgres", "redis-server")
    assert config.rules == (
        Rule(lo=5173, hi=5173, label="Shop frontend"),
        Rule(lo=3000, hi=3010, on_open="open-browser"),
        Rule(pattern=re.compile("jupyter"), on_open="silent"),
        Rule(lo=9229, hi=9229, on_open="ignore"),
    )


def test_rule_for_takes_the_first_match() -> None:
    config = parse(
        textwrap.dedent("""
        [[rules]]
        match = "^node$"
        label = "first"
        [[rules]]
        ports = "3000-3010"
        label = "second"
        [[rules]]
        match = "--port 8888"
        label = "third"
        """)
    )
    assert rule_for(config, 3005, "python3", "python3 -m http.server") == config.rules[1]
    assert rule_for(config, 3005, "node", "node server.js") == config.rules[0]
    assert rule_for(config, 8888, None, "jupyter lab --port 8888") == config.rules[2]
    assert rule_for(config, 3011, "python3", "python3 app.py") is None
    assert rule_for(DEFAULT, 3005, "node", "node") is None


@pytest.mark.parametrize(
    ("text", "line", "key", "reason"),
    [
        ("interval = 0.5\naddress = \n", 2, None, "Invalid value"),
        ('no_probe = ["node",\n', 2, None, ""),
        ("interval = 1\ninterval = 2\n", 2, None, ""),
        ('\n\ninterval = "fast"\n', 3, "interval", 'expected seconds from 0.1 to 60, got "fast"'),
        ("interval = 0.05\n", 1, "interval", "expected seconds from 0.1 to 60, got 0.05"),
        ("# slow\ninterval = 61\n", 2, "interval", "expected seconds from 0.1 to 60, got 61"),
        ("interval = nan\n", 1, "interval", "got nan"),
        ("interval = true\n", 1, "interval", "got true"),
        ('address = "0.0.0.0"\n', 1, "address", "expected one of 127.0.0.1, localhost"),
        ('notifications = "yes"\n', 1, "notifications", 'expected true or false, got "yes"'),
        ("a = 1\nhide_system = 1\n", 1, "a", "unknown key"),
        ("hide_system = 0\n", 1, "hide_system", "expected true or false, got 0"),
        ('no_probe = "node"\n', 1, "no_probe", "expected an array of process names"),
        ("no_probe = [1]\n", 1, "no_probe", "got an array"),
        ("\nintervall = 1\n", 2, "intervall", 'unknown key; did you mean "interval"?'),
        ("x = 1\n[server]\nport = 1\n", 1, "x", "unknown key"),
        ("interval = 1\n\n[server]\nport = 1\n", 3, "server", "unknown key"),
        ("rules = 3\n", 1, "rules", "expected [[rules]] tables, got 3"),
        ("[rules]\nport = 1\n", 1, "rules", "expected [[rules]] tables, got a table"),
        ("[[rules]]\nport = 1\nlable = 'x'\n", 3, "rules[1].lable", 'did you mean "label"?'),
        ("[[rules]]\nport = 1\n[[rules]]\nmatch = '(x'\n", 4, "rules[2].match", "invalid regular"),
        ("[[rules]]\nmatch = 7\n", 2, "rules[1].match", "expected a regular expression"),
        ("[[rules]]\nport = 1\nports = '2-3'\n", 3, "rules[1].ports", "exactly one of"),
        ("[[rules]]\nmatch = 'x'\nport = 2\n", 3, "rules[1].port", "exactly one of"),
        ("[[rules]]\nport = 1\n\n[[rules]]\nlabel = 'x'\n", 4, "rules[2]", "exactly one of"),
        ("[[rules]]\nport = 70000\n", 2, "rules[1].port", "from 1 to 65535, got 70000"),
        ("[[rules]]\nport = 0\n", 2, "rules[1].port", "got 0"),
        ("[[rules]]\nport = '80'\n", 2, "rules[1].port", 'got "80"'),
        ("[[rules]]\nports = '3010-3000'\n", 2, "rules[1].ports", 'got "3010-3000"'),
        ("[[rules]]\nports = '1-70000'\n", 2, "rules[1].ports", 'like "3000-3010"'),
        ("[[rules]]\nports = 3000\n", 2, "rules[1].ports", "got 3000"),
        ("[[rules]]\nport = 1\nlabel = 5\n", 3, "rules[1].label", "expected a string, got 5"),
        ("[[rules]]\nport = 1\non_open = 'loud'\n", 3, "rules[1].on_open", 'got "loud"'),
        ("rules = [{port = 1}, {port = 0}]\n", 1, "rules[2].port", "got 0"),
    ],
)
def test_errors_name_the_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, reason: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    error = caught.value
    assert (error.path, error.line, error.key) == (str(path), line, key)
    assert reason in error.reason
    assert str(error).startswith(f"{path}:{line}: ")
    assert isinstance(error, Exception)


def test_error_reads_as_one_line() -> None:
    text = """
        # porttray
        interval = 1
        address = "localhost"

        [[rules]]
        port = 5173
        on_open = "loud"
    """
    with pytest.raises(ConfigError) as caught:
        parse(textwrap.dedent(text).lstrip("\n"))
    assert str(caught.value) == (
        "config.toml:7: rules[1].on_open: expected one of notify, open-browser, silent, ignore, "
        'got "loud"'
    )


def test_syntax_error_without_a_key_reads_as_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse("interval = 1\n= 2\n", "settings.toml")
    assert str(caught.value) == "settings.toml:2: Invalid statement"


def test_unreadable_and_undecodable_files(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="cannot read") as caught:
        load(folder)
    assert caught.value.line is None
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'interval = 1\nlabel = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8") as caught:
        load(latin)
    assert caught.value.line == 2


def test_default_path_is_in_the_platform_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "porttray" / "config.toml"


# --- fuzz --------------------------------------------------------------------------------------

PIECES = [
    "interval = 1",
    "interval = -3",
    "interval = 1e400",
    'address = "localhost"',
    "notifications = true",
    "hide_system = 'no'",
    'no_probe = ["a", 2]',
    "[[rules]]",
    "[rules]",
    "[other.table]",
    "port = 80",
    "port = 99999999999999999999",
    'ports = "1-2"',
    'ports = "-"',
    'match = "(?P<x"',
    'match = "a{99999999999}"',
    'on_open = "ignore"',
    "label = 2024-01-01",
    "rules = [{}]",
    "rules = [[1]]",
    '"quoted key" = 1',
    "a.b.c = 1",
    "= =",
    '"""',
]


MANY = 3 * settings().max_examples
"""The settings parser takes any text a user may write: three times the profile's examples."""


@settings(max_examples=MANY, deadline=None)
@given(st.text())
def test_parse_of_any_text_gives_a_config_or_a_config_error(text: str) -> None:
    _parse_or_config_error(text)


@settings(max_examples=MANY, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_parse_of_mixed_settings_gives_a_config_or_a_config_error(lines: list[str]) -> None:
    _parse_or_config_error("\n".join(lines))


def _parse_or_config_error(text: str) -> None:
    try:
        result = parse(text)
    except ConfigError as error:
        assert error.line is None or 1 <= error.line <= text.count("\n") + 1
        assert "\n" not in str(error)
    else:
        assert isinstance(result, Config)
