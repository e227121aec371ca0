"""Targets, reachability and free ports for `wait`, `who` and `free`."""

from __future__ import annotations

import pytest

from tray import agent
from tray.model import Server


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("5173", agent.Target(5173)),
        (":8080", agent.Target(8080)),
        ("localhost:3000", agent.Target(3000)),
        ("http://127.0.0.1:8000/health", agent.Target(8000, "127.0.0.1")),
        ("https://[::1]:8443", agent.Target(8443, "::1", "https")),
        ("http://localhost", agent.Target(80)),
        ("https://127.0.0.2", agent.Target(443, "127.0.0.2", "https")),
    ],
)
def test_targets(text: str, target: agent.Target) -> None:
    assert agent.parse_target(text) == target


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("abc", "not a loopback address"),
        ("0", "out of range"),
        ("65536", "out of range"),
        ("http://127.0.0.1:99999", "out of range"),
        ("http://example.com:80", "not a loopback address"),
        ("http://192.168.1.5:80", "not a loopback address"),
        ("ftp://127.0.0.1:21", "not an http or https URL"),
        ("", "not a loopback address"),
    ],
)
def test_bad_targets_say_why(text: str, says: str) -> None:
    with pytest.raises(agent.TargetError, match=says):
        agent.parse_target(text)


def _server(*addresses: str, v6only: bool | None = None) -> Server:
    return Server(port=5000, addresses=addresses, pid=1, v6only=v6only)


@pytest.mark.parametrize(
    ("addresses", "v6only", "host", "reached"),
    [
        (("127.0.0.1",), None, None, True),
        (("127.0.0.1",), None, "127.0.0.1", True),
        (("127.0.0.1",), None, "::1", False),
        (("::1",), None, "127.0.0.1", False),
        (("::1",), None, "::1", True),
        (("0.0.0.0",), None, "127.0.0.1", True),
        (("0.0.0.0",), None, "::1", False),
        (("::",), False, "127.0.0.1", True),
        (("::",), True, "127.0.0.1", False),
        (("::",), True, "::1", True),
        (("::ffff:127.0.0.1",), None, "127.0.0.1", True),
        (("192.0.2.1",), None, None, False),
    ],
)
def test_reaches(
    addresses: tuple[str, ...], v6only: bool | None, host: str | None, reached: bool
) -> None:
    assert agent.reaches(_server(*addresses, v6only=v6only), agent.Target(5000, host)) is reached
    assert not agent.reaches(_server(*addresses, v6only=v6only), agent.Target(5001, host))


def test_free_ports_skip_every_listener_and_stop_at_the_last_port() -> None:
    assert agent.free_ports({8000, 8002}, 8000, 3) == (8001, 8003, 8004)
    assert agent.free_ports(set(), 65534, 5) == (65534, 65535)
    assert agent.holders([_server("127.0.0.1"), _server("::1")], 5000) != ()
