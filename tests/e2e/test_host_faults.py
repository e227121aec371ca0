"""The real-host layer under bad conditions: a host that never gets ready, a panel that crashes
mid-test, a compositor that takes no input. Each failure names the host and the step, and no
process of the session is left behind."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.conftest import wait_for
from tests.kit.hosts import sway, xfce
from tests.kit.hosts.driver import HostTray, settled_tray_area
from tests.kit.hosts.session import WATCHER, HostProgram, HostSession, HostStepFailed
from tests.kit.hosts.x11 import X11Session

pytestmark = [pytest.mark.e2e, pytest.mark.hosts]


class NeverReadyHost(X11Session):
    """A "panel" that starts and never offers a tray."""

    name = "never-ready"

    def _start(self) -> None:
        self.start_x11()
        self.spawn("panel", ["sleep", "600"])
        with self.step("the panel offers a tray"):
            reader = self.reader
            assert reader is not None
            owned = wait_for(lambda: reader._pid_of(WATCHER) is not None, 2, 0.2)
            assert owned, "no StatusNotifierWatcher within 2 s"


def leftovers(programs: list[HostProgram]) -> list[psutil.Process]:
    return [p for program in programs for p in program.group()]


def test_a_host_that_never_gets_ready_fails_its_start_step_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    session = NeverReadyHost(tmp_path)
    with pytest.raises(HostStepFailed) as failed:
        session.start()
    assert "never-ready: step 'the panel offers a tray' failed" in str(failed.value)
    programs = [p for p in session.host_programs.values() if isinstance(p, HostProgram)]
    assert programs, "the panel was never started"
    assert not leftovers(programs)


def started(session: HostSession) -> HostTray:
    session.start()
    try:
        tray = HostTray(session, settled_tray_area(session))
        session.start_porttray()
        session.wait_for_item()
        tray.find_icon()
    except BaseException:
        session.close()
        raise
    return tray


@pytest.mark.skipif(bool(xfce.missing()), reason="needs XFCE's panel (scripts/setup.sh --test)")
def test_a_panel_that_crashes_mid_test_is_named_with_its_log(tmp_path: Path) -> None:
    session = xfce.XfceHost(tmp_path)
    tray = started(session)
    panel = session.host_programs["xfce4-panel"]
    programs = [p for p in session.processes if isinstance(p, HostProgram)]
    try:
        panel.proc.kill()
        with pytest.raises(HostStepFailed) as failed, session.step("click the icon"):
            tray.open_menu(timeout=4)
        message = str(failed.value)
        assert "xfce: step 'click the icon' failed" in message
        assert "xfce4-panel exited with -9" in message
        assert session.porttray is not None and session.porttray.poll() is None, "porttray died"
    finally:
        session.close()
    assert not leftovers(programs), "the panel's plugin wrapper outlived it"


@pytest.mark.skipif(bool(sway.missing()), reason="needs sway as a normal user (setup.sh --test)")
def test_a_compositor_that_takes_no_input_fails_the_click_step(tmp_path: Path) -> None:
    session = sway.SwayHost(tmp_path)
    tray = started(session)
    try:
        session.host_programs["virtual-pointer"].stop()  # the seat has no pointer any more
        with pytest.raises(HostStepFailed) as failed, session.step("click the icon"):
            tray.open_menu(timeout=4)
        # the press cannot reach the seat (its pointer's control socket is gone): the failure
        # names the host, the step and the program that died
        assert "sway: step 'click the icon' failed: " in str(failed.value)
        assert "virtual-pointer exited" in str(failed.value)
    finally:
        session.close()
