"""What the engine client shares with its callers, apart from the client itself: importing this
does not load `http.client` (and the `email` package behind it), which a machine without a
container engine never needs."""

from __future__ import annotations

TIMEOUT = 1.0
"""Seconds any one step of a request may take: a stalled engine costs at most this, off the
poll path."""


class EngineError(Exception):
    """The engine could not be asked, or its answer makes no sense."""
