"""Where tests keep files for a person to look at (screenshots, contact sheets).

`test-artifacts/` in the checkout by default; `PORTTRAY_TEST_ARTIFACTS` moves it, for a suite that
runs as a user who may not write in the checkout (`scripts/test.sh` points it at a directory that
user owns, still inside the checkout where CI collects it).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    """The artifacts directory, created if missing."""
    path = Path(os.environ.get("PORTTRAY_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path
