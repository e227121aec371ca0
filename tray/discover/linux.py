"""Linux owners: socket inode → pid through /proc, process details through psutil."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tray.discover.owners import OwnerIndex, ProcessDetails
from tray.model import Listener, ProcessInfo


class LinuxOwners:
    """Incremental inode → pid resolution with per-process details, both cached."""

    def __init__(self, proc: str = "/proc") -> None:
        self.index = OwnerIndex(proc)
        self._details = ProcessDetails()

    def resolve(self, listeners: Sequence[Listener]) -> dict[int, int | None]:
        """inode → pid for every listener (None where no readable process holds it)."""
        return self.index.owners({item.inode for item in listeners if item.pid is None})

    def details(self, pid: int) -> ProcessInfo | None:
        """Details of a process, read once."""
        return self._details.get(pid)

    def retain(self, pids: Iterable[int]) -> None:
        """Forget processes that hold no listener any more."""
        self._details.retain(pids)

    def forget_dead(self) -> bool:
        """Forget owners that exited, so their sockets (kept by a child) are searched again."""
        dead = self.index.forget_dead()
        self._details.retain(p for p in self._details.pids() if p not in dead)
        return bool(dead)
