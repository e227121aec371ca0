"""The $BROWSER stand-in of a test desktop: a script that loads the URL in headless Chromium,
records the run and exits, so a test can check that porttray opened the page, and what it showed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kit.wait import wait_for

CHROMIUM = (
    os.environ.get("PORTTRAY_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "/usr/bin/chromium"
)
"""The browser behind the $BROWSER stand-in: Debian's package, or whatever chromium is on PATH
(Ubuntu has it only as a snap, which scripts/setup.sh does not install)."""
NO_CHROMIUM = (
    "no chromium found (Debian: apt-get install chromium; Ubuntu: snap install chromium, or set "
    "PORTTRAY_CHROMIUM): the browser tests are skipped"
)
BROWSER_SCRIPT = """#!/bin/sh
# A $BROWSER for tests: load the page in headless Chromium, record the run, exit.
profile=$(mktemp -d "{dir}/profile.XXXXXX")
{chromium} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \\
  --disable-background-networking --disable-component-update --disable-sync \\
  --user-data-dir="$profile" --dump-dom "$1" >"{dir}/last-page.html" 2>>"{dir}/chromium.log"
rc=$?
rm -rf "$profile"
printf '%s %s\\n' "$rc" "$1" >>"{dir}/runs.log"
exit $rc
"""


@dataclass(frozen=True, slots=True)
class BrowserRun:
    """One run of the browser stand-in."""

    url: str
    exit_code: int


@dataclass(frozen=True, slots=True)
class BrowserStandIn:
    """A $BROWSER that loads the URL in headless Chromium and exits."""

    path: Path
    """The executable to set as $BROWSER."""
    dir: Path
    """Its records: runs.log, last-page.html, chromium.log."""

    def runs(self) -> list[BrowserRun]:
        """Every finished run, oldest first."""
        log = self.dir / "runs.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [BrowserRun(url, int(code)) for code, url in (ln.split(" ", 1) for ln in lines)]

    def wait_for_run(self, url: str, timeout: float = 30.0) -> BrowserRun:
        """The first finished run that opened `url` (skips the test where there is no Chromium)."""
        if not chromium_available():
            pytest.skip(NO_CHROMIUM)
        if not wait_for(lambda: any(r.url == url for r in self.runs()), timeout, 0.05):
            raise TimeoutError(f"the browser did not open {url} within {timeout} s")
        return next(r for r in self.runs() if r.url == url)

    def last_page(self) -> str:
        """The DOM Chromium dumped on its last run."""
        return (self.dir / "last-page.html").read_text()


def make_browser(directory: Path) -> BrowserStandIn:
    """Write the browser stand-in script into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "porttray-test-browser"
    script.write_text(BROWSER_SCRIPT.format(dir=directory, chromium=CHROMIUM))
    script.chmod(0o755)
    return BrowserStandIn(script, directory)


def chromium_available() -> bool:
    """Whether the browser stand-in can run here."""
    return os.access(CHROMIUM, os.X_OK)
