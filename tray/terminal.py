"""The terminal porttray prints to: how wide a table may be."""

from __future__ import annotations

import os
import shutil
import sys

NOT_A_TERMINAL = 100
"""Columns for a table written to a pipe or a file without $COLUMNS."""


def table_width(*, wide: bool) -> int | None:
    """The table's width: the terminal's ($COLUMNS first), else $COLUMNS, else 100; None with
    `wide` (everything in full)."""
    if wide:
        return None
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size().columns)
    columns = os.environ.get("COLUMNS", "")
    return max(40, int(columns)) if columns.isdecimal() else NOT_A_TERMINAL
