"""Start porttray at login: an XDG autostart entry on Linux, a LaunchAgent on macOS, the HKCU Run
key on Windows. One small class per platform behind `for_platform()`; each takes its paths or its
registry so tests can point it at a temporary place.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

LABEL = "dev.porttray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


class Autostart(Protocol):
    """Turns starting at login on and off."""

    def enabled(self) -> bool:
        """Whether porttray starts at login."""
        ...

    def enable(self, command: Sequence[str]) -> None:
        """Start `command` at login."""
        ...

    def disable(self) -> None:
        """Stop starting at login."""
        ...

    def where(self) -> str:
        """Where the setting lives, for messages."""
        ...


def launch_command() -> list[str]:
    """The command that starts this porttray: its console script, else `python -m tray`."""
    script = shutil.which("porttray")
    here = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if here is not None and here.name == "porttray" and here.exists():
        return [str(here)]
    if script:
        return [script]
    return [sys.executable, "-m", "tray"]


class XdgAutostart:
    """$XDG_CONFIG_HOME/autostart/porttray.desktop (honoured by GNOME, KDE, XFCE and others)."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        config = env.get("XDG_CONFIG_HOME") or str(
            Path(env.get("HOME", "~")).expanduser() / ".config"
        )
        self.path = Path(config) / "autostart" / "porttray.desktop"

    def enabled(self) -> bool:
        """Present and not marked Hidden."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return False
        return "\nHidden=true" not in text

    def enable(self, command: Sequence[str]) -> None:
        """Write the desktop entry."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exec_line = " ".join(_desktop_quote(arg) for arg in command)
        _write(
            self.path,
            "[Desktop Entry]\nType=Application\nName=porttray\n"
            "Comment=Local servers by port, in the tray\n"
            f"Exec={exec_line}\nIcon=network-server\nTerminal=false\n"
            "X-GNOME-Autostart-enabled=true\n",
        )

    def disable(self) -> None:
        """Remove the desktop entry."""
        self.path.unlink(missing_ok=True)

    def where(self) -> str:
        """The desktop entry's path."""
        return str(self.path)


class LaunchAgent:
    """~/Library/LaunchAgents/dev.porttray.plist, loaded by launchd at login."""

    def __init__(self, home: Path | None = None) -> None:
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    def enabled(self) -> bool:
        """The plist exists."""
        return self.path.exists()

    def enable(self, command: Sequence[str]) -> None:
        """Write the plist."""
        import plistlib  # macOS only: Linux and Windows never load it

        self.path.parent.mkdir(parents=True, exist_ok=True)
        plist = {"Label": LABEL, "ProgramArguments": list(command), "RunAtLoad": True}
        _write(self.path, plistlib.dumps(plist).decode())

    def disable(self) -> None:
        """Remove the plist."""
        self.path.unlink(missing_ok=True)

    def where(self) -> str:
        """The plist's path."""
        return str(self.path)


class RunKey:
    """HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run, value "porttray"."""

    def __init__(self, registry: Any = None) -> None:
        if registry is None:
            import winreg as registry
        self._reg = registry

    def enabled(self) -> bool:
        """The value exists."""
        try:
            with self._reg.OpenKey(self._reg.HKEY_CURRENT_USER, RUN_KEY) as key:
                self._reg.QueryValueEx(key, "porttray")
        except OSError:
            return False
        return True

    def enable(self, command: Sequence[str]) -> None:
        """Set the value to the command line."""
        line = " ".join(f'"{arg}"' if " " in arg else arg for arg in command)
        with self._reg.CreateKey(self._reg.HKEY_CURRENT_USER, RUN_KEY) as key:
            self._reg.SetValueEx(key, "porttray", 0, self._reg.REG_SZ, line)

    def disable(self) -> None:
        """Delete the value."""
        try:
            with self._reg.OpenKey(
                self._reg.HKEY_CURRENT_USER, RUN_KEY, 0, self._reg.KEY_SET_VALUE
            ) as key:
                self._reg.DeleteValue(key, "porttray")
        except OSError:
            pass

    def where(self) -> str:
        """The registry value's path."""
        return f"HKCU\\{RUN_KEY}\\porttray"


def for_platform(platform: str = sys.platform) -> Autostart:
    """The autostart mechanism of this platform."""
    if platform == "win32":
        return RunKey()
    if platform == "darwin":
        return LaunchAgent()
    return XdgAutostart()


def _desktop_quote(arg: str) -> str:
    """Quote an argument for a desktop entry's Exec key."""
    if all(c.isalnum() or c in "/._-=:" for c in arg):
        return arg
    return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["Autostart", "LaunchAgent", "RunKey", "XdgAutostart", "for_platform", "launch_command"]
