"""Temporary files and folders that are renamed into place, and clearing those left behind.

Records and run folders are written under a temporary name and renamed into place, so a
reader never sees half of one. A process killed outright (SIGKILL, a power cut) cannot
remove its temporary; the name says whose it was, ``.tmp-<host id>-<pid>-<hex>[-name]``,
so that a later writer on the same host removes it once that process is gone
(:func:`remove_stale`). Temporaries of other hosts are left alone (a writer there may still
be at work on a shared folder), unless their name has no owner (written by an older
version) and they are more than a day old. No JAX.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import secrets
import shutil
import socket
import time

__all__ = ["TMP_PREFIX", "host_id", "temporary_name", "remove_stale", "write_atomically"]

#: Prefix of the temporary files and folders that are renamed into place.
TMP_PREFIX = ".tmp-"
#: A temporary without an owner in its name is stale after this many seconds.
UNOWNED_STALE_S = 24 * 3600
_OWNED = re.compile(rf"{re.escape(TMP_PREFIX)}([0-9a-f]{{8}})-(\d+)-[0-9a-f]+")


def host_id(node: str | None) -> str:
    """First 8 hex digits of the SHA-256 of the host name: stable, and not the name."""
    return hashlib.sha256((node or "").encode("utf-8")).hexdigest()[:8]


def temporary_name(name: str = "") -> str:
    """A new temporary name owned by this process, ``.tmp-<host id>-<pid>-<hex>[-name]``."""
    owner = f"{host_id(socket.gethostname())}-{os.getpid()}"
    return f"{TMP_PREFIX}{owner}-{secrets.token_hex(6)}" + (f"-{name}" if name else "")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stale(path: pathlib.Path, now: float) -> bool:
    owned = _OWNED.match(path.name)
    if owned is None:
        try:
            return now - path.lstat().st_mtime > UNOWNED_STALE_S
        except OSError:
            return False
    host, pid = owned.groups()
    return host == host_id(socket.gethostname()) and not _alive(int(pid))


def remove_stale(folder: str | os.PathLike) -> list[pathlib.Path]:
    """Remove the temporaries in ``folder`` whose writer is gone; return what was removed."""
    folder, now, removed = pathlib.Path(folder), time.time(), []
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)]
    except OSError:
        return removed
    for path in entries:
        if not _stale(path, now):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if not os.path.lexists(path):
            removed.append(path)
    return removed


def write_atomically(path: pathlib.Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: all or nothing.

    With ``exclusive``, an existing ``path`` is never replaced (:class:`FileExistsError`).
    """
    path = pathlib.Path(path)
    temporary = path.with_name(temporary_name(path.name))
    try:
        temporary.write_text(text, encoding="utf-8")
        if exclusive:
            os.link(temporary, path)  # fails if path exists
            temporary.unlink()
        else:
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
