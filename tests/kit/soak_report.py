"""The soak's result as a table and as JSON."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict

from tests.kit.sampling import ProcSample
from tests.kit.soak_records import INTERVAL, SoakResult


def render(r: SoakResult) -> str:
    """The result as a table."""
    c, o = r.config, r.oracle
    met = r.targets()
    cpu = r.end.tray.cpu_s - r.reference.tray.cpu_s
    lines = [
        f"porttray soak ({r.mode}): {o.opened} listeners ({r.reference.opened} warm-up, then "
        f"{r.end.opened - r.reference.opened} in {r.seconds:g} s, {r.rate:g}/s), "
        f"{c.workers} workers, held {c.long_min:g}-{c.long_max:g} s, "
        f"{c.short_share:.0%} held {c.short_life * 1000:g} ms; load average at end "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        "",
        "tray process                start   warm-up       end   growth (end - warm-up)",
        _row("RSS MiB", r, lambda p: p.rss_mib, "{:.1f}"),
        _row("Pss MiB", r, lambda p: p.pss_mib, "{:.1f}"),
        _row("Pss_Anon MiB", r, lambda p: p.pss_anon_mib, "{:.1f}"),
        _row("open fds", r, lambda p: p.fds, "{:.0f}"),
        _row("threads", r, lambda p: p.threads, "{:.0f}"),
        _row("  without GLib pool-*", r, lambda p: p.steady_threads, "{:.0f}"),
        f"  peak RSS growth after warm-up {r.peak_rss_growth_mib:.1f} MiB; CPU during the soak "
        f"{cpu:.1f} s after warm-up ({100 * cpu / max(r.seconds, 1e-9):.1f} % of one core)",
        "",
        "events, porttray watch --json as the oracle",
        f"  listeners opened                         {o.opened:>7}",
        f"  held longer than {INTERVAL:g} s                   {o.long_lived:>7}",
        f"    missed opened / missed closed          {o.long_missed_open:>3} / "
        f"{o.long_missed_close}",
        f"  held {c.short_life * 1000:g} ms (sub-interval)                {o.sub_interval:>7}",
        f"    seen opened anyway                     {o.sub_interval_seen:>7}",
        f"  events about the workers / unmatched     {o.events:>7} / {o.unmatched_events}",
        f"  notifications dunst was sent             {r.notifications:>7}",
        f"  tray exit status {r.tray_exit}, tracebacks: tray {r.tray_tracebacks}, "
        f"watch {r.watch_tracebacks}",
        "",
        "targets",
        *(f"  {name:<34}{'ok' if ok else 'MISSED'}" for name, ok in met.items()),
    ]
    return "\n".join(lines)


def _row(label: str, r: SoakResult, get: Callable[[ProcSample], float], fmt: str) -> str:
    start, warm, end = get(r.start.tray), get(r.reference.tray), get(r.end.tray)
    cells = "".join(f"{fmt.format(v):>10}" for v in (start, warm, end))
    return f"  {label:<22}{cells}{fmt.format(end - warm):>10}"


def to_json(result: SoakResult) -> dict[str, object]:
    """The result with its derived figures and targets."""
    return {
        **asdict(result),
        "rss_growth_mib": result.rss_growth_mib,
        "peak_rss_growth_mib": result.peak_rss_growth_mib,
        "targets": result.targets(),
    }
