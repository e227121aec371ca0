"""The soak's short form: about 300 short-lived listeners against the real tray.

Worker processes open listeners on 127.0.0.1 at ~10 a second, most held 0.75-1.5 s (longer than the
0.5 s poll interval), some only 50 ms. `porttray watch --json` runs alongside as the oracle for the
engine; the tray process must end where it was after warm-up: the same fds (±2 for GTK and D-Bus
opening things at first use), the same threads (GLib's idle pool workers aside), RSS within 5 MiB,
no traceback, and far fewer notifications than listeners. The soak itself is tests/kit/soak.py,
run at length by benchmarks/soak.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.desktop import Desktop
from tests.kit.soak import SoakConfig, soak
from tests.kit.soak_report import render

pytestmark = pytest.mark.e2e

SHORT = SoakConfig(
    listeners=300,
    rate=10.0,
    workers=3,
    warmup=60,
    sample_every=5.0,
    long_min=0.75,
    long_max=1.5,
    short_share=0.15,
)


def test_short_soak_leaves_the_tray_as_it_was(desktop: Desktop, tmp_path: Path) -> None:
    result = soak(desktop, SHORT, tmp_path)
    print(render(result))
    o, ref, end = result.oracle, result.reference.tray, result.end.tray
    assert o.opened == SHORT.listeners
    assert o.long_lived > 200
    assert (o.long_missed_open, o.long_missed_close) == (0, 0), render(result)
    assert o.unmatched_events == 0, render(result)
    assert abs(end.fds - ref.fds) <= 2, render(result)
    assert end.steady_threads == ref.steady_threads, render(result)
    assert result.rss_growth_mib < 5.0, render(result)
    assert 0 < result.notifications < SHORT.listeners // 10, render(result)
    assert result.tray_exit == 0
    assert result.tray_tracebacks == 0, (tmp_path / "tray.log").read_text()
    assert result.watch_tracebacks == 0, (tmp_path / "watch.log").read_text()
