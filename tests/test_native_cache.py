"""The native kernels' cache (``models._kernel_cache``, used by ``models._native``) as code.

* private: a folder others can write (or one above it, unless sticky), and a file another
  user owns or others can write, are refused with a warning that names them and what to
  change, and a library planted there is never opened; at umask 000 the cache is still
  ``0700``;
* found: empty ``GLMNN_CACHE_DIR`` / ``XDG_CACHE_HOME`` mean unset, and the path is absolute;
* checked: a truncated or replaced library is rebuilt before anything maps it (the process
  lives), a library that does not load is named with "delete it";
* ``CXX`` naming no executable falls back to XLA with a warning, no other compiler used;
* a build killed midway leaves a folder that the next use removes;
* concurrent first uses compile once.

One real build, in two processes started at once (``real_build``); elsewhere a build is a
copy of a small library compiled once, or of the real one.
"""

from __future__ import annotations

import ctypes
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models import _kernel_cache as kernel_cache
from models import _native

ROOT = Path(__file__).resolve().parent.parent
COMPILER = _native._compiler()
pytestmark = pytest.mark.skipif(COMPILER is None, reason="no C++ compiler here")

# A small library whose constructor leaves a file where GLMNN_TEST_MARKER says: that file
# exists exactly when the library was opened.
PLANTED = r"""
#include <cstdio>
#include <cstdlib>
__attribute__((constructor)) static void opened() {
  if (const char *marker = std::getenv("GLMNN_TEST_MARKER")) std::fclose(std::fopen(marker, "w"));
}
extern "C" int glmnn_fake_version() { return VERSION; }
"""

COMPILING = "compiling the GLM's CPU kernels"


@pytest.fixture(scope="session")
def fakes(tmp_path_factory):
    """Two small valid libraries, versions 1 and 2 (``glmnn_fake_version``)."""
    folder = tmp_path_factory.mktemp("fakes")
    source = folder / "planted.cc"
    source.write_text(PLANTED)
    out = []
    for version in (1, 2):
        library = folder / f"fake{version}.so"
        subprocess.run([*shlex.split(COMPILER), "-shared", "-fPIC", f"-DVERSION={version}",
                        str(source), "-o", str(library)], check=True)
        out.append(library)
    return out


class CopyBuild:
    """A build that copies ``library`` and counts how often it ran."""

    def __init__(self, library: Path):
        self.library, self.count = library, 0

    def __call__(self, out: Path) -> None:
        self.count += 1
        shutil.copy(self.library, out)


def _version(path: Path) -> int:
    return ctypes.CDLL(str(path)).glmnn_fake_version()


@pytest.fixture
def marker(tmp_path, monkeypatch):
    path = tmp_path / "opened"
    monkeypatch.setenv("GLMNN_TEST_MARKER", str(path))
    return path


@pytest.fixture
def undecided():
    """``status()`` decided afresh inside the test, and again by whoever asks after it."""
    _native.status.cache_clear()
    yield
    _native.status.cache_clear()


def _plant(library: Path, source: Path, *, record: bool = True) -> None:
    """Put ``source`` at ``library``, with a matching record, as a planter would."""
    shutil.copy(source, library)
    if record:
        kernel_cache.record_path(library).write_text(
            f"{kernel_cache.digest(library)}  {library.name}\n")


# --- private ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o1777, 0o777, 0o770], ids=oct)
def test_a_cache_folder_others_can_write_is_refused(mode, tmp_path, monkeypatch, fakes, marker,
                                                    undecided):
    cache = tmp_path / "s"
    cache.mkdir()
    cache.chmod(mode)
    monkeypatch.setenv("GLMNN_CACHE_DIR", str(cache))
    _plant(_native.library_path(COMPILER), fakes[0])
    with pytest.warns(_native.NativeUnavailableWarning,
                      match=rf"refusing the kernel cache {re.escape(str(cache))}: it is "
                            rf"writable by group or others \(mode {mode:04o}\); run chmod 700"):
        assert _native.available() is False
    assert not marker.exists()  # the planted library was never opened
    library = _native.library_path(COMPILER)  # and nothing was built or locked there
    assert sorted(cache.iterdir()) == [library, kernel_cache.record_path(library)]


@pytest.mark.parametrize("how", ["owner", "mode"])
def test_a_file_another_user_can_change_is_refused(how, tmp_path, monkeypatch, fakes, marker,
                                                   undecided):
    if how == "owner" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    monkeypatch.setenv("GLMNN_CACHE_DIR", str(tmp_path / "cache"))
    library = _native.library_path(COMPILER)
    kernel_cache.make_private_dir(library.parent)
    _plant(library, fakes[0])
    if how == "owner":
        os.chown(library, 65534, 65534)
        why = r"owned by uid 65534, not you \(uid 0\)"
    else:
        library.chmod(0o666)
        why = r"writable by group or others \(mode 0666\)"
    with pytest.warns(_native.NativeUnavailableWarning,
                      match=rf"refusing to load {re.escape(str(library))}: it is {why}; "
                            r"delete it"):
        assert _native.available() is False
    assert not marker.exists()


def test_a_folder_above_that_others_can_write_is_refused(tmp_path, fakes):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone may rename "cache" away and put their own in its place
    library = shared / "cache" / "kernels-x.so"
    with pytest.raises(kernel_cache.CacheError,
                       match=rf"{re.escape(str(shared))} above it is writable"):
        kernel_cache.ensure(library, CopyBuild(fakes[0]), _version)
    shared.chmod(0o1777)  # sticky, as /tmp is: only the owner may rename it
    assert kernel_cache.ensure(library, CopyBuild(fakes[0]), _version) == 1


def test_umask_000_still_makes_a_private_cache(tmp_path, fakes):
    library = tmp_path / "home" / ".cache" / "glmnn-bench" / "kernels-x.so"
    old = os.umask(0)
    try:
        kernel_cache.ensure(library, CopyBuild(fakes[0]), _version)
    finally:
        os.umask(old)
    for folder in (tmp_path / "home", tmp_path / "home" / ".cache", library.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    for path in (library, kernel_cache.record_path(library),
                 library.parent / kernel_cache.LOCK_NAME):
        assert path.stat().st_mode & 0o077 == 0, path


def test_umask_000_real_build_is_private(real_build):
    """The real compiler's output, built at umask 000 (``real_build``)."""
    library = real_build["library"]
    assert library.parent.stat().st_mode & 0o777 == 0o700
    assert library.stat().st_mode & 0o777 == 0o700
    assert kernel_cache.record_path(library).stat().st_mode & 0o777 == 0o600


# --- found -----------------------------------------------------------------------------


@pytest.mark.parametrize("glmnn, xdg, expected", [
    ("", "", "home/.cache/glmnn-bench"),
    ("  ", None, "home/.cache/glmnn-bench"),
    (None, "", "home/.cache/glmnn-bench"),
    (None, "relative", "home/.cache/glmnn-bench"),  # the XDG specification: ignore it
    (None, "{tmp}/xdg", "xdg/glmnn-bench"),
    ("s", "", "cwd/s"),  # relative: made absolute, so dlopen never searches for it
])
def test_empty_cache_variables_mean_unset(glmnn, xdg, expected, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    for name, value in (("GLMNN_CACHE_DIR", glmnn), ("XDG_CACHE_HOME", xdg)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value.format(tmp=tmp_path))
    library = _native.library_path(COMPILER)
    assert library.is_absolute()
    assert library.parent == tmp_path / expected


# --- checked ---------------------------------------------------------------------------


def test_a_replaced_library_is_rebuilt_before_it_is_opened(tmp_path, fakes):
    library = tmp_path / "cache" / "kernels-x.so"
    build, good = CopyBuild(fakes[0]), kernel_cache.digest(fakes[0])
    assert kernel_cache.ensure(library, build, kernel_cache.digest) == good
    # Another valid library: alone, and with its own record copied along under this name.
    for record in (False, True):
        _plant(library, fakes[1], record=False)
        if record:
            kernel_cache.record_path(library).write_text(
                f"{kernel_cache.digest(library)}  kernels-other.so\n")
        assert kernel_cache.verify(library) is not None
        # What is opened is the rebuilt library, never the stranger.
        assert kernel_cache.ensure(library, build, kernel_cache.digest) == good
    assert build.count == 3
    assert _version(library) == 1
    assert kernel_cache.verify(library) is None


def test_a_library_that_does_not_load_says_delete_it(tmp_path, fakes):
    library = tmp_path / "cache" / "kernels-x.so"

    def load(path):
        raise OSError("undefined symbol")

    with pytest.raises(kernel_cache.CacheError,
                       match=rf"{re.escape(str(library))} passed its sha256 check but did "
                             r"not load "
                             r"\(undefined symbol\); delete it"):
        kernel_cache.ensure(library, CopyBuild(fakes[0]), load)


# The real module, with a build that copies the real library: the process must survive a
# damaged library, rebuild it and load the kernels.
SURVIVOR = """
import shutil, sys
from models import _native
_native._build = lambda compiler, library, out: shutil.copy(sys.argv[1], out)
print("RESULT", _native.status()[0])
"""


@pytest.mark.parametrize("damage", ["truncated", "replaced"])
def test_a_damaged_library_is_rebuilt_and_the_process_lives(damage, real_build, tmp_path,
                                                             fakes):
    good, cache = real_build["library"], tmp_path / "cache"
    kernel_cache.make_private_dir(cache)
    library = cache / good.name
    for path in (good, kernel_cache.record_path(good)):
        if path.exists():  # a record, where the build wrote one
            shutil.copy(path, cache / path.name)
    if damage == "truncated":  # mapping this killed the process with SIGBUS
        os.truncate(library, 100_000)
    else:  # a wrong but valid library: it was kept, and the fallback with it
        shutil.copy(fakes[1], library)
    marker = tmp_path / "opened"
    done = subprocess.run([sys.executable, "-c", SURVIVOR, str(good)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "GLMNN_CACHE_DIR": str(cache),
                               "GLMNN_TEST_MARKER": str(marker)})
    assert done.returncode == 0, done.stderr
    assert "RESULT True" in done.stdout, done.stderr
    assert (f"{library} does not match the sha256 recorded when it was built (truncated or "
            f"replaced); deleting and rebuilding it") in done.stderr
    assert kernel_cache.digest(library) == kernel_cache.digest(good)
    assert not marker.exists()


# --- CXX -------------------------------------------------------------------------------


def test_a_cxx_that_is_not_an_executable_is_not_replaced(tmp_path, monkeypatch, undecided):
    monkeypatch.setenv("CXX", "/no/such/clang++")
    monkeypatch.setenv("GLMNN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.warns(_native.NativeUnavailableWarning,
                      match=r"CXX=/no/such/clang\+\+ is not an executable; unset it or point "
                            r"it at a C\+\+ compiler"):
        assert _native.available() is False
    assert not (tmp_path / "cache").exists()  # no other compiler built anything
    monkeypatch.setenv("CXX", f"{Path(shlex.split(COMPILER)[0]).name} -O0")  # words are fine
    assert shlex.split(_native._compiler())[1:] == ["-O0"]


# --- no leftovers ----------------------------------------------------------------------


KILLED = """
import importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location("cache", sys.argv[1])
cache = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cache)
def build(out):
    out.write_bytes(bytes(600_000))
    os.kill(os.getpid(), signal.SIGKILL)
cache.ensure(cache.Path(sys.argv[2]), build, print)
"""


def test_a_killed_build_leaves_nothing_behind_the_next_use(tmp_path, fakes):
    library = tmp_path / "cache" / "kernels-x.so"
    done = subprocess.run([sys.executable, "-c", KILLED, kernel_cache.__file__, str(library)],
                          timeout=60)
    assert done.returncode == -signal.SIGKILL
    (left,) = [p for p in library.parent.iterdir() if p.is_dir()]
    assert re.fullmatch(r"build-\d+-\w{8}", left.name)
    assert (left / library.name).stat().st_size == 600_000
    # A folder left by a builder that did not lock, an hour old, goes too; others stay.
    old, fresh, mine = (library.parent / name for name in ("tmpabcd_123", "tmpzyxw_987",
                                                            "tmpnotes_ab"))
    for folder, content in ((old, "kernels-0123.so"), (fresh, "kernels-0123.so"),
                            (mine, "notes.txt")):
        folder.mkdir()
        (folder / content).write_bytes(bytes(1000))
    for folder in (old, mine):
        os.utime(folder, (time.time() - 7200,) * 2)
    build = CopyBuild(fakes[0])
    assert kernel_cache.ensure(library, build, _version) == 1
    assert build.count == 1
    assert {p for p in library.parent.iterdir() if p.is_dir()} == {fresh, mine}


# --- built once ------------------------------------------------------------------------


FIRST_USE = """
import os
os.umask(0)
from models import _native
print("RESULT", _native.status()[0], _native.library_path(_native._compiler()))
"""


@pytest.fixture(scope="session")
def real_build(tmp_path_factory):
    """Two first uses of the real kernels, started at once on an empty cache, at umask 000."""
    cache = tmp_path_factory.mktemp("real") / "cache"
    env = {**os.environ, "GLMNN_CACHE_DIR": str(cache)}
    runs = [subprocess.Popen([sys.executable, "-c", FIRST_USE], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    outputs = [run.communicate(timeout=400) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    results = [out.split("RESULT ", 1)[1].split() for out, _ in outputs]
    assert [ok for ok, _ in results] == ["True", "True"], outputs
    assert results[0][1] == results[1][1]
    return {"library": Path(results[0][1]), "stderr": [err for _, err in outputs]}


def test_concurrent_first_uses_compile_once(real_build):
    compiles = sum(err.count(COMPILING) for err in real_build["stderr"])
    assert compiles == 1, real_build["stderr"]
    assert kernel_cache.verify(real_build["library"]) is None


def test_a_lock_held_too_long_is_an_error_not_a_hang(tmp_path):
    import fcntl

    kernel_cache.make_private_dir(tmp_path / "cache")
    fd = os.open(tmp_path / "cache" / kernel_cache.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(kernel_cache.CacheError, match="another process has held"):
            with kernel_cache.locked(tmp_path / "cache", timeout_s=0.3):
                pass
    finally:
        os.close(fd)
