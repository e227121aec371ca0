"""`porttray list` fits a terminal: names and paths cut with "…", "~" for home, --wide for all."""

from __future__ import annotations

from tray.fit import Shrink, cut, fit, home_short
from tray.model import Identity, ProcessInfo, Server
from tray.report import table

HOME = "/home/ann"


def server(port: int, title: str, cwd: str, exposed: bool = False) -> Server:
    proc = ProcessInfo(100 + port % 1000, name="node", cmdline=("node",), cwd=cwd)
    addresses = ("0.0.0.0",) if exposed else ("127.0.0.1",)
    return Server(port, addresses, proc.pid, proc, identity=Identity(protocol="http", title=title))


SERVERS = tuple(
    server(
        3000 + i,
        f"A rather long page title number {i} of the shop's storefront",
        f"{HOME}/work/clients/acme/monorepo/packages/storefront-{i}/apps/web",
        exposed=i == 3,
    )
    for i in range(20)
)


def test_twenty_servers_fit_100_columns_and_say_what_they_cut() -> None:
    lines = table(SERVERS, width=100, home=HOME).splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len(lines) == 21
    row = lines[1]
    assert "…" in row and "http://127.0.0.1:3000" in row
    assert row.rstrip().endswith("apps/web")  # a path keeps its end
    assert "A rather long" in row  # a name keeps its start
    exposed = next(line for line in lines if line.startswith("3003 "))
    assert "⚠" in exposed and len(exposed) <= 100


def test_home_is_written_as_a_tilde_and_wide_shows_everything() -> None:
    fitted = table(SERVERS[:1], width=200, home=HOME)
    assert "~/work/clients/acme" in fitted and HOME not in fitted
    wide = table(SERVERS, width=None)
    assert max(len(line) for line in wide.splitlines()) > 150
    assert "…" not in wide and "⚠ exposed" in wide


def test_a_narrow_terminal_shrinks_columns_to_their_minimum_only() -> None:
    lines = table(SERVERS, width=60, home=HOME).splitlines()
    assert lines[0].split()[:3] == ["PORT", "URL", "NAME"]
    assert all("http://127.0.0.1:30" in line for line in lines[1:])  # URLs stay whole


def test_fit_and_cut() -> None:
    rows = [("a", "bbbbbbbbbb"), ("c", "d")]
    assert fit(rows, 8, [Shrink(1, 3)]) == ["a  bbbb…", "c  d"]
    assert fit(rows, 8, [Shrink(1, 3, "start")]) == ["a  …bbbb", "c  d"]
    assert cut("abc", 0) == "" and cut("abcd", 1) == "…" and cut("abc", 3) == "abc"
    assert home_short("/home/ann", "/home/ann") == "~"
    assert home_short("/home/anna/x", "/home/ann") == "/home/anna/x"
    assert home_short("/x", "/") == "/x"
