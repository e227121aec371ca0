"""Untrusted text made safe to show: one printable line, no controls, bounded, encodable."""

from __future__ import annotations

import unicodedata
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tray.model import Identity, ProcessInfo, Server
from tray.naming import describe, label
from tray.report import server_json, table
from tray.text import LIMIT, lines, markup, printable, valid

# Any code point, lone surrogates included: what os.fsdecode and psutil can hand back.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)


@given(ANY_TEXT, st.integers(min_value=1, max_value=300))
def test_printable_is_one_encodable_line_within_its_limit(text: str, limit: int) -> None:
    out = printable(text, limit)
    out.encode("utf-8")  # no lone surrogate survives
    assert len(out) <= limit
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert not [c for c in out if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
    assert not set(out) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert out == out.strip() and "  " not in out


@given(ANY_TEXT)
def test_printable_is_idempotent_and_valid_keeps_what_is_already_valid(text: str) -> None:
    once = printable(text, None)
    assert printable(once, None) == once
    fixed = valid(text)
    fixed.encode("utf-8")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return
    assert fixed == text


@given(ANY_TEXT)
def test_markup_leaves_no_tag_or_entity_start(text: str) -> None:
    out = markup(printable(text))
    assert "<" not in out and ">" not in out
    assert out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("caf\udce9", "caf\\xe9"),  # a Latin-1 path seen through surrogateescape
        ("\ud800x", "\ufffdx"),
        ("\x1b[2J\x1b]0;pwned\x07Shop", "[2J]0;pwnedShop"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("a\tb\n\nc  d", "a b c d"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("", ""),
        ("x" * 500, "x" * (LIMIT - 1) + "…"),
    ],
)
def test_printable_examples(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_lines_keep_their_breaks() -> None:
    assert lines("a\x00b\nc\udcff") == "ab\nc\\xff"


def test_labels_table_and_json_of_a_server_with_non_utf8_names_are_encodable() -> None:
    proc = ProcessInfo(7, name="n\udcffde", cmdline=("n\udcffde", "--x=\udce9"), cwd="/caf\udce9")
    srv = Server(5000, ("127.0.0.1",), 7, proc, identity=Identity(title="\x1b[31mred", kind="x"))
    for text in (describe(srv), label(srv), table((srv,)), str(server_json(srv))):
        text.encode("utf-8")
        assert "\x1b" not in text
    assert describe(srv) == "[31mred — x"
    assert server_json(srv)["cwd"] == "/caf\\xe9"


def test_lines_keep_the_spacing_within_a_line() -> None:
    assert lines(":5173  Shop\x1b[0m  ⚠\n:8000  api") == ":5173  Shop[0m  ⚠\n:8000  api"


@given(ANY_TEXT)
def test_a_notification_body_in_markup_is_well_formed_xml(text: str) -> None:
    """Plasma parses a markup body as `<html>…</html>` XML and logs "invalid XML" when it is
    not: the noncharacters U+FFFE and U+FFFF, allowed in Python strings and in D-Bus, are not
    XML characters."""
    body = markup(lines(text))
    ElementTree.fromstring(f"<html>{body.replace(chr(10), '<br/>')}</html>")


def test_noncharacters_are_dropped() -> None:
    assert printable("a\ufffeb\uffffc") == "abc"
    assert lines("a\uffff\nb") == "a\nb"
