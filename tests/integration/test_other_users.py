"""What a normal user meets on a shared machine: servers and processes of someone else.

The other user's programs run as `porttray-other` (tests/helpers/users.py). As a normal user,
porttray sees such a socket in the kernel's table but not which process holds it (another user's
/proc/PID/fd is closed to us), may read some of that process's details but not its working
directory, and must never signal it. Tests of that view skip when the suite runs as root, who sees
and may do everything.
"""

from __future__ import annotations

import json
import logging
import pwd
import subprocess
import sys

import psutil
import pytest

from tests.helpers.users import OTHER, SYSTEM_PYTHON, OtherUser, is_root
from tray.owners import ProcessDetails
from tray.stopping import may_stop, stop

normal_user_only = pytest.mark.skipif(is_root(), reason="root sees every process's details")

SLEEPER = [SYSTEM_PYTHON, "-c", "import signal; print('up', flush=True); signal.pause()"]


@normal_user_only
def test_another_users_server_is_listed_with_no_owner(other_user: OtherUser) -> None:
    with other_user.listener() as (_, port):
        done = subprocess.run(
            [sys.executable, "-m", "tray", "list", "--json", "--all"],  # hide_system hides it
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    (obj,) = [o for o in json.loads(done.stdout) if o["port"] == port]
    assert obj["pid"] is None
    assert (obj["process"], obj["cmdline"], obj["cwd"]) == (None, None, None)
    assert obj["user"] == OTHER  # named after the socket's owner uid, which the kernel reports
    assert obj["url"] == f"http://127.0.0.1:{port}"
    if "uid" in obj:  # the socket's owner, where the output carries it
        assert obj["uid"] == pwd.getpwnam(OTHER).pw_uid
    assert "Traceback" not in done.stderr


def test_stop_is_refused_for_another_users_process(other_user: OtherUser) -> None:
    proc = other_user.start(SLEEPER)
    try:
        assert proc.sudo.stdout is not None
        assert proc.sudo.stdout.readline().strip() == "up"
        target = psutil.Process(proc.pid)
        assert target.username() == OTHER
        assert not may_stop(proc.pid, OTHER)
        for force in (False, True):
            result = stop(proc.pid, target.create_time(), force=force)
            assert not result.ok
            assert "another user" in result.message or "not allowed" in result.message
        assert target.is_running()
        assert target.status() != psutil.STATUS_ZOMBIE
    finally:
        proc.stop()


@normal_user_only
def test_another_users_cwd_is_unreadable_and_the_rest_still_comes(
    other_user: OtherUser, caplog: pytest.LogCaptureFixture
) -> None:
    proc = other_user.start(SLEEPER, cwd="/tmp")
    try:
        assert proc.sudo.stdout is not None
        assert proc.sudo.stdout.readline().strip() == "up"
        with pytest.raises(psutil.AccessDenied):
            psutil.Process(proc.pid).cwd()
        details = ProcessDetails()
        with caplog.at_level(logging.INFO, logger="tray.owners"):
            info = details.get(proc.pid)
            details.retain([])
            again = details.get(proc.pid)
        assert info is not None
        assert info.cwd is None
        assert info.user == OTHER
        assert info.started is not None
        assert info == again
        denied = [r for r in caplog.records if "cannot read cwd" in r.getMessage()]
        assert len(denied) == 1, "the denial is logged once per process, not per read"
    finally:
        proc.stop()
