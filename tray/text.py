"""Text from outside porttray made safe to show, in one place. Pure.

Page titles, process names, command lines and paths come from other programs (some of them other
users'), so wherever porttray shows one — menu labels, notifications, `list` and `watch` — it goes
through `printable` first:

- Names and paths that are not UTF-8 arrive from the OS as lone surrogates (Python's
  "surrogateescape"); GTK, D-Bus and terminals reject them, and one such label used to freeze the
  menu for good. Each becomes the visible escape `\\xNN` (or U+FFFD for other lone surrogates).
- Control characters (escape sequences that would repaint a terminal, NUL, DEL), the
  noncharacters U+FFFE and U+FFFF (not XML: Plasma rejects a body holding one) and the invisible
  bidirectional overrides that make text read differently than it is are dropped; line breaks and
  tabs become spaces and runs of spaces collapse, so one value is one line.
- Lengths are capped, with an ellipsis.

`markup` escapes what is left for notification servers that read the body as markup (those that
report "body-markup"): a title `<a href=…>Sign in</a>` stays text there, and "Tom & Jerry" stays
valid.
"""

from __future__ import annotations

import unicodedata

LIMIT = 200
"""Characters of one value shown, at most, unless the caller says otherwise."""

_INVISIBLE = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
"""Bidirectional marks, embeddings, overrides and isolates."""


def printable(text: str | None, limit: int | None = LIMIT) -> str:
    """`text` as one printable line without control characters, cut to `limit` with "…"."""
    if not text:
        return ""
    if text.isascii() and text.isprintable() and "  " not in text:
        clean = text.strip()  # the common case, kept cheap
    else:
        clean = " ".join("".join(_char(c) for c in text).split())
    if limit is not None and len(clean) > limit:
        return clean[: max(0, limit - 1)].rstrip() + "…"
    return clean


def lines(text: str, limit: int | None = LIMIT) -> str:
    """Each line of `text` without control characters or lone surrogates, cut to `limit`; line
    breaks and the spacing within lines kept (a notification's ":5173  Shop" stays aligned)."""
    out = []
    for line in text.split("\n"):
        clean = "".join(_char(c) for c in line).rstrip()
        if limit is not None and len(clean) > limit:
            clean = clean[: max(0, limit - 1)].rstrip() + "…"
        out.append(clean)
    return "\n".join(out)


def valid(text: str) -> str:
    """`text` with only its lone surrogates escaped, everything else kept (for JSON, clipboard)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_surrogate(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def markup(text: str) -> str:
    """`text` escaped for a notification body read as markup (&, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _surrogate(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return "\ufffd"


def _char(char: str) -> str:
    if 0xD800 <= ord(char) <= 0xDFFF:
        return _surrogate(char)
    if char.isspace():
        return " "
    if char in _INVISIBLE:
        return ""
    if unicodedata.category(char) == "Cc" or char in "\ufffe\uffff":
        return ""  # controls, and the two noncharacters that are not XML (Plasma's bodies)
    return char
