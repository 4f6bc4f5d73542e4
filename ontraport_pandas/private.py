"""Files and folders readable by their owner only (``0600`` / ``0700``), whatever the umask.

Journals and record caches hold contact data, so everything the toolkit creates for
them goes through here. Folders that already exist are left as they are: they may be
the user's own (the current directory, a shared project folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

__all__ = ["private_dir", "private_file", "private_open"]


def private_dir(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` and its missing parents with mode ``0700`` (existing ones are left alone)."""
    folder = Path(folder)
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for p in missing:
        os.chmod(p, 0o700)  # mkdir's mode is filtered by the umask; chmod is not
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists with mode ``0600`` (created empty if missing)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return Path(path)


def private_open(path: str | os.PathLike[str], mode: str, **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for writing (``"w"``, ``"wb"``, ``"a"``, ``"ab"``), the file made ``0600``."""
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if mode.startswith("a") else os.O_TRUNC
    if "+" in mode:
        flags = (flags & ~os.O_WRONLY) | os.O_RDWR
    fd = os.open(path, flags, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, mode, **kwargs)
