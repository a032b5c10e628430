"""A private, checked cache of compiled code: where :mod:`models._native` keeps its library.

A library in this cache is loaded into the process, where its constructors run as the
caller, so the cache is treated as code:

* **private**: the folders it creates are ``0700`` and the library ``0700`` whatever the
  umask. Before anything is loaded, the folder and its files must be the caller's and
  writable by no one else, and each folder above must be the caller's or root's and
  writable by no one else unless sticky (as ``/tmp`` is). Otherwise nothing is loaded,
  and :class:`CacheError` names the path and what to change.
* **checked**: a library's sha256 is recorded when it is built and checked before it is
  opened, so a truncated, replaced or unrecorded file is rebuilt and never mapped.
* **built once**: checks and builds hold an exclusive lock on the folder, so concurrent
  first uses compile once; the others wait, then load that build.
* **no leftovers**: a build writes in its own ``build-<pid>-*`` folder and renames the
  result into place. Since builds run only under the lock, such a folder found by the
  lock's holder belongs to a build that died, and is removed.
* **absolute**: the path is always absolute (``dlopen`` searches the library path for a
  bare file name), and empty variables count as unset.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

__all__ = ["CacheError", "LOCK_NAME", "cache_dir", "make_private_dir", "check_folder",
           "check_file", "record_path", "digest", "verify", "locked", "remove_stale_builds",
           "ensure"]

LOCK_NAME = "kernels.lock"
"""The lock file in the cache folder, held (``flock``) while checking or building."""

_LOCK_TIMEOUT_S = 900.0  # a build takes seconds; a holder this slow has hung
_OLD_TEMPORARY_S = 3600.0  # unlocked builders took a minute at most
# Build folders (``tempfile``'s 8-character suffix) and those of builders that did not lock.
_BUILD_FOLDER = re.compile(r"build-\d+-[a-z0-9_]{8}")
_UNLOCKED_FOLDER = re.compile(r"tmp[a-z0-9_]{8}")

T = TypeVar("T")


class CacheError(RuntimeError):
    """The cache cannot be used as it is; the message names the path and what to change."""


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The cache folder, as an absolute path.

    ``GLMNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/glmnn-bench``, else
    ``~/.cache/glmnn-bench``. Empty variables count as unset, and so does a relative
    ``XDG_CACHE_HOME`` (the XDG specification says to ignore one); a relative
    ``GLMNN_CACHE_DIR`` is taken from the current folder, once, here.
    """
    explicit = environ.get("GLMNN_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    if not base.is_absolute():
        raise CacheError("no home folder to cache the kernels in; set GLMNN_CACHE_DIR")
    return (base / "glmnn-bench").resolve()


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` and its missing parents as ``0700``, whatever the umask."""
    missing = []
    for path in (folder, *folder.parents):
        if os.path.lexists(path):
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # made meanwhile by someone else: checked as any other folder is
        os.chmod(path, 0o700)  # mkdir's mode passes through the umask


def _foreign(info: os.stat_result, *, root_too: bool = False) -> str | None:
    """Whose ``info`` is, where that is not the caller's (nor root's, with ``root_too``)."""
    if info.st_uid == os.getuid() or (root_too and info.st_uid == 0):
        return None
    return f"owned by uid {info.st_uid}, not you (uid {os.getuid()})"


def _shared(info: os.stat_result) -> str | None:
    """Who else may write what ``info`` describes, where anyone may."""
    if not info.st_mode & 0o022:
        return None
    return f"writable by group or others (mode {stat.S_IMODE(info.st_mode):04o})"


def check_folder(folder: Path) -> None:
    """Raise :class:`CacheError` unless only the caller (and root) can change ``folder``."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(f"refusing the kernel cache {folder}: not a folder; set "
                         f"GLMNN_CACHE_DIR to a folder of your own")
    if (why := _foreign(info)) is not None:
        raise CacheError(f"refusing the kernel cache {folder}: it is {why}; set "
                         f"GLMNN_CACHE_DIR to a folder of your own")
    if (why := _shared(info)) is not None:
        raise CacheError(f"refusing the kernel cache {folder}: it is {why}; run chmod 700 "
                         f"{folder}, or set GLMNN_CACHE_DIR to a private folder")
    # Whoever can write a folder above can rename this one away and put their own in its
    # place; in a sticky folder (as /tmp is) each user can rename only their own entries.
    for parent in folder.parents:
        info = os.stat(parent)
        why = _foreign(info, root_too=True) or (None if info.st_mode & stat.S_ISVTX
                                                else _shared(info))
        if why is not None:
            raise CacheError(f"refusing the kernel cache {folder}: {parent} above it is {why}, "
                             f"so another user could replace the cache; set GLMNN_CACHE_DIR "
                             f"to a folder under one only you can write")


def check_file(path: Path) -> None:
    """Raise :class:`CacheError` if ``path`` exists but is not a file only the caller can change.

    A missing file is fine: it is built.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    why = ("not a regular file" if not stat.S_ISREG(info.st_mode)
           else _foreign(info) or _shared(info))
    if why is not None:
        raise CacheError(f"refusing to load {path}: it is {why}; delete it (it is rebuilt "
                         f"on next use)")


def record_path(library: Path) -> Path:
    """Where ``library``'s sha256 is recorded: beside it, in ``sha256sum``'s format."""
    return library.with_name(library.name + ".sha256")


def digest(path: Path) -> str:
    """The sha256 of ``path``'s bytes, read (never mapped), in hex."""
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def verify(library: Path) -> str | None:
    """Why ``library`` may not be loaded as it is (it must be rebuilt), or ``None``."""
    if not library.exists():
        return "is not built yet"
    try:
        recorded = record_path(library).read_text().split()
    except FileNotFoundError:
        return "has no recorded sha256"
    if recorded != [digest(library), library.name]:
        return "does not match the sha256 recorded when it was built (truncated or replaced)"
    return None


@contextlib.contextmanager
def locked(folder: Path, timeout_s: float = _LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the folder's lock (:data:`LOCK_NAME`), waiting up to ``timeout_s`` for it."""
    import fcntl  # POSIX only, as the libraries are: elsewhere this fails, and XLA is used

    lock = folder / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        deadline, told = time.monotonic() + timeout_s, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    print(f"glmnn-bench: waiting for another process to finish building "
                          f"the kernels in {folder}", file=sys.stderr, flush=True)
                    told = True
                if time.monotonic() > deadline:
                    raise CacheError(f"another process has held {lock} for {timeout_s:.0f} s; "
                                     f"end it if it hangs") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # which releases the lock


def remove_stale_builds(folder: Path) -> list[Path]:
    """Remove the build folders of builds that died; call it with the folder's lock held.

    Also removes, after an hour, those of builders that did not lock, if they hold
    nothing but libraries.
    """
    removed = []
    for entry in folder.iterdir():
        if entry.is_symlink() or not entry.is_dir():
            continue
        if not _BUILD_FOLDER.fullmatch(entry.name):
            try:
                unlocked = (_UNLOCKED_FOLDER.fullmatch(entry.name)
                            and time.time() - entry.stat().st_mtime > _OLD_TEMPORARY_S
                            and all(re.fullmatch(r"kernels-\w+\.so", name)
                                    for name in os.listdir(entry)))
            except OSError:  # not ours to read: not ours to remove
                continue
            if not unlocked:
                continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _build(library: Path, build: Callable[[Path], None]) -> None:
    """Build into a private folder of the cache, then rename the library and its record into place.

    The library goes first, so that a crash between the two renames leaves a library whose
    record does not match, which is rebuilt.
    """
    with tempfile.TemporaryDirectory(prefix=f"build-{os.getpid()}-", dir=library.parent) as tmp:
        out = Path(tmp) / library.name
        build(out)
        os.chmod(out, 0o700)  # the compiler's output mode passes through the umask
        note = Path(tmp) / record_path(library).name
        note.write_text(f"{digest(out)}  {library.name}\n")
        os.chmod(note, 0o600)
        os.replace(out, library)
        os.replace(note, record_path(library))


def ensure(library: Path, build: Callable[[Path], None], load: Callable[[Path], T]) -> T:
    """``load(library)``, once the cache is checked and ``library`` built and verified.

    The sha256 is recorded in a file beside the library rather than in its name, so that the
    library's path is known before it is built (:func:`models._native.library_path`); a
    library without a matching record is never trusted.

    Args:
        library: the absolute path of the library, in its cache folder.
        build: writes the library to the path it is given (raises on failure).
        load: opens the library, called under the lock once its sha256 matches.

    Returns:
        What ``load`` returns.

    Raises:
        CacheError: the folder or a file in it is not private (nothing is loaded), or the
            library fails its check right after it was built, or does not load.
    """
    folder = library.parent
    make_private_dir(folder)
    check_folder(folder)
    with locked(folder):
        remove_stale_builds(folder)
        check_file(library)
        check_file(record_path(library))
        problem = verify(library)
        if problem is not None:
            if library.exists():
                print(f"glmnn-bench: {library} {problem}; deleting and rebuilding it",
                      file=sys.stderr, flush=True)
            for path in (library, record_path(library)):
                path.unlink(missing_ok=True)
            _build(library, build)
            problem = verify(library)
            if problem is not None:
                raise CacheError(f"{library} {problem} right after it was built")
        try:
            return load(library)
        except Exception as error:
            raise CacheError(f"{library} passed its sha256 check but did not load ({error}); "
                             f"delete it to rebuild it") from error
