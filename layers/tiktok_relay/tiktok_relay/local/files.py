"""The dead-letter file `replay` and `serve` append to and `redrive` rewrites: both under an
exclusive advisory lock of the file (POSIX flock), so that a rewrite never loses a line
appended while it ran. No boto3 here (memory.py's idempotency store needs it; redrive from a
file does not)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def _lock_exclusively(handle: IO[Any]) -> None:
    """Wait for an exclusive advisory lock on an open file (released when it is closed). Where
    there is no fcntl (Windows), none: do not redrive a file another process is writing there."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def append_locked(path: Path, text: str) -> None:
    """Append `text` to the file now at `path`: if a rewrite replaced the file while this one
    waited for the lock, append to the new file instead."""
    while True:
        with path.open("a", encoding="utf-8") as handle:
            _lock_exclusively(handle)
            try:
                here, there = os.fstat(handle.fileno()), os.stat(path)
            except FileNotFoundError:  # moved away meanwhile: open it again
                continue
            if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
                handle.write(text)
                return


def rewrite_dead_letters(path: Path, read: int, lines: list[str]) -> None:
    """Replace the first `read` bytes of the dead-letter file at `path` (what the caller read
    and decided about) with `lines`, keeping every byte appended after them. Atomic: a new file
    is written next to it, then moved over it, under the lock writers take."""
    with path.open("rb") as handle:
        _lock_exclusively(handle)
        handle.seek(read)
        appended = handle.read()
        temporary = path.with_name(f".{path.name}.redrive")
        with temporary.open("wb") as out:
            out.write("".join(line + "\n" for line in lines).encode("utf-8"))
            out.write(appended)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, os.fstat(handle.fileno()).st_mode & 0o7777)  # the file's own permissions
        os.replace(temporary, path)
