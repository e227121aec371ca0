"""Who the user is, and whose a socket is: the real uid and the names of uids (reads the passwd
database, so it lives in the shell).

"Your own" means the real uid of the process, not `$USER` or `$LOGNAME`, which anyone can set.
"""

from __future__ import annotations

import functools
import os


def real_uid() -> int | None:
    """The real uid of this process (None where the platform has none: Windows)."""
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid is not None else None


@functools.lru_cache(maxsize=256)
def user_name(uid: int | None) -> str | None:
    """The login name of a uid, or None when it has no passwd entry."""
    if uid is None:
        return None
    try:
        import pwd
    except ImportError:  # Windows
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError, ValueError):
        return None


def real_user() -> str:
    """The login name of the real uid; on Windows (no uids) the session's user name."""
    name = user_name(real_uid())
    if name is not None:
        return name
    import getpass

    return getpass.getuser()
