"""The tray's memory measures: asyncio and hashlib loaded without OpenSSL, the C heap trimmed
after the servers fell far below their peak.

Each check of `without_openssl` runs in a fresh interpreter, since this one has long loaded
asyncio, hashlib and ssl (where it then does nothing, which is checked here).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from tests.helpers.artifacts import ROOT
from tray import memory

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

LEAN = """
import socket, sys
from tray import memory
assert memory.without_openssl()
import asyncio, dbus_fast.aio, hashlib
loaded = sorted(set(memory.OPENSSL_MODULES) & set(sys.modules))
maps = open("/proc/self/maps").read()
print(loaded, "libcrypto" in maps or "libssl" in maps)
print(hashlib.sha256(b"porttray").hexdigest())

async def echo() -> bytes:
    left, right = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=left)
    right.sendall(b"over a unix socket")
    data = await reader.readexactly(18)
    writer.close()
    right.close()
    return data

print(asyncio.run(echo()).decode())
import ssl
ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
print("ssl loads later", "libssl" in open("/proc/self/maps").read())
"""


def run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@LINUX
def test_asyncio_and_hashlib_load_and_work_without_openssl_which_loads_when_asked_for() -> None:
    loaded, digest, echoed, later = run(LEAN)
    assert loaded == "[] False"
    assert digest == hashlib.sha256(b"porttray").hexdigest()  # CPython's own sha256, same digest
    assert echoed == "over a unix socket"
    assert later == "ssl loads later True"


def test_does_nothing_once_asyncio_or_ssl_is_loaded() -> None:
    before = dict(sys.modules)
    assert memory.without_openssl() is False
    assert sys.modules == before
    assert run("import ssl\nfrom tray import memory\nprint(memory.without_openssl())") == ["False"]


def test_a_shrink_is_a_fall_far_below_the_peak_and_then_the_peak_starts_again() -> None:
    shrink = memory.Shrink(least=100)
    assert [shrink.fell(n) for n in (0, 50, 1000, 600, 501)] == [False] * 5  # not half yet
    assert shrink.fell(500) is True
    assert shrink.fell(50) is True  # 450 fewer than 500, the new peak
    assert [shrink.fell(n) for n in (120, 30)] == [False, False]  # only 90 fewer than 120
    assert [shrink.fell(n) for n in (160, 60)] == [False, True]


@LINUX
def test_trim_runs_on_glibc() -> None:
    assert memory.trim() is True
    assert memory.trim() is True  # the library is looked up once and kept
