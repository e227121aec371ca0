"""Reading a loopback server's HTTP/1.x answer: status, headers, the body so far, the title.

Pure functions on the raw bytes `tray.identify.http_probe` read, so each is tested with plain
bytes. Every pattern has bounded repeats and every result is cut to a limit: the bytes come from
any program listening on the machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TITLE_LIMIT = 80

_STATUS = re.compile(rb"HTTP/1\.[01] +(\d{3})(?:[ \r\n]|$)")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
# Bounded repeats: a hostile page of "<title<title<title..." must not cost quadratic time.
_TITLE_START = re.compile(rb"<title\b[^>]{0,200}>", re.IGNORECASE)
_TITLE_END = re.compile(rb"</title", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta\b[^>]{0,200}?charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    """Header names in lower case; the first of repeated headers wins."""
    body: bytes
    """The body as far as it arrived, de-chunked."""
    complete: bool


def enough(data: bytes, last: int) -> bool:
    """Whether reading can stop: not HTTP at all, or nothing more is needed."""
    if not b"HTTP/".startswith(data[:5]):
        return True
    response = parse(data)
    if response is None or not _HEAD_END.search(data):
        return False
    if response.complete or "location" in response.headers:
        return True
    return _TITLE_END.search(data, max(0, len(data) - last - 8)) is not None


def parse(data: bytes) -> Response | None:
    pos = 0
    while (
        (interim := _STATUS.match(data, pos))
        and interim.group(1).startswith(b"1")
        and (gap := _HEAD_END.search(data, pos))
        and _STATUS.match(data, gap.end())
    ):
        pos = gap.end()  # past "100 Continue" and "103 Early Hints"
    match = _STATUS.match(data, pos)
    if match is None:
        return None
    status = int(match.group(1))
    end = _HEAD_END.search(data, pos)
    head, body = (data[pos : end.start()], data[end.end() :]) if end else (data[pos:], b"")
    headers: dict[str, str] = {}
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    complete = status in (204, 304)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, complete = dechunk(body)
    elif (length := headers.get("content-length", "")).isdecimal() and len(length) < 19:
        complete = complete or len(body) >= int(length)
    return Response(status, headers, body, complete and end is not None)


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """The data of the chunks that arrived (the last one perhaps cut), and whether all arrived."""
    out, pos = bytearray(), 0
    while (eol := body.find(b"\r\n", pos)) >= 0:
        try:
            size = int(body[pos:eol].split(b";")[0], 16)
        except ValueError:
            return bytes(out), True
        if size == 0:
            return bytes(out), True
        out += body[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2
    return bytes(out), False


def title_of(response: Response) -> str | None:
    start = _TITLE_START.search(response.body)
    end = _TITLE_END.search(response.body, start.end()) if start else None
    if start is None or end is None:
        return None
    raw = response.body[start.end() : end.start()]
    try:
        text = raw.decode(_charset(response), errors="replace")
    except (LookupError, UnicodeError):  # unknown, or not a text encoding ("hex", "idna")
        text = raw.decode("utf-8", errors="replace")
    if "&" in text:  # html.unescape changes nothing else; its entity table is 300 KiB loaded
        import html

        text = html.unescape(text)
    return clean(text, TITLE_LIMIT) or None


def _charset(response: Response) -> str:
    found = _CHARSET.search(response.headers.get("content-type", ""))
    meta = None if found else _META_CHARSET.search(response.body)
    return found.group(1) if found else meta.group(1).decode("ascii") if meta else "utf-8"


def clean(text: str, limit: int) -> str:
    """Printable text on one line with single spaces, cut to `limit` with an ellipsis."""
    text = " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
