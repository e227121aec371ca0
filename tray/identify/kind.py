"""What runs a server ("vite", "flask", "postgres"): the kind column of `tray.programs`' table."""

from __future__ import annotations

from tray.cmdline import HEAD_CHARS, parse
from tray.programs import kind_of

__all__ = ["HEAD_CHARS", "kind_of", "parse"]
