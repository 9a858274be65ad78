"""Staged file writes: temporary files beside their targets, renamed into place all at once.

A :class:`FileStage` writes every file of an export to a temporary name in the target's own
directory and renames them over their targets only when :meth:`FileStage.commit` is called, after
the other targets (the database) succeeded. ``os.replace`` is atomic on POSIX and Windows within one
file system: a reader sees the previous file or the complete new one, never a partial one. On any
exception before the commit every temporary file is removed and no target is touched.

Temporary names and the sweep
-----------------------------
A temporary file is named ``.<target name>.clvtmp-<pid>-<random hex>`` (hidden, recognisable, and
carrying the writer's process id). A writer killed by ``kill -9`` cannot remove its temporary file,
so every later write to the same target first sweeps the temporary files *of that target* that are
stale: their pid is not a live process on this machine (or is a zombie), or they are older than
:data:`STALE_AFTER_SECONDS` (6 hours; this covers a pid reused by an unrelated process and writers on
other machines sharing the directory). A live writer's temporary file is never swept while it is
younger than that. Only names of the form above (with a ``-journal``, ``-wal`` or ``-shm`` suffix for
a new SQLite database built under a temporary name, see :class:`clvmodels.export.sql.SqlExport`; and
the ``.<name>.<8 chars>.tmp`` names of earlier clvmodels versions, by age only) are ever removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from clvmodels.errors import ExportError, ExportFileError

#: temporary files older than this are stale even if their pid is alive (pid reuse, other hosts)
STALE_AFTER_SECONDS = 6 * 3600
TMP_MARK = ".clvtmp-"


def _default_file_mode() -> int:
    # temporary files are created 0600; give the final file the permissions a plain open() would
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def temp_name(target: Path) -> Path:
    """A fresh temporary path beside ``target``: ``.<name>.clvtmp-<pid>-<random>``."""
    return target.with_name(f".{target.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(6)}")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    try:  # a killed but not yet reaped process is a zombie: it will never finish its write
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True  # no /proc (macOS, Windows): os.kill said it exists


def sweep_stale(target, now: float | None = None) -> list[Path]:
    """Remove stale temporary files of ``target`` left by killed writers; returns what was removed.

    See the module docstring for the rule.
    """
    target = Path(target)
    now = time.time() if now is None else now
    # a SQLite database built under a temporary name may leave its journal beside it
    ours = re.compile(re.escape(f".{target.name}{TMP_MARK}") + r"(\d+)-[0-9a-f]+(-journal|-wal|-shm)?\Z")
    legacy = re.compile(re.escape(f".{target.name}.") + r"[A-Za-z0-9_]{8}\.tmp\Z")
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = ours.match(entry.name)
        if match is None and not legacy.match(entry.name):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = int(match.group(1)) if match else None
        stale = age > STALE_AFTER_SECONDS or (pid is not None and pid != os.getpid() and not _pid_alive(pid))
        if stale and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def check_file_target(path, what: str = "file") -> Path:
    """Check that ``path`` can be written (directory exists and is writable, path is not a directory).

    Raises :class:`~clvmodels.errors.ExportError` naming the target and what to do. Writes nothing.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise ExportError(f"cannot write the {what} {str(path)!r}: it names no file", target=str(path))
    if path.is_dir():
        raise ExportError(f"cannot write the {what} {str(path)!r}: it is a directory; give a file name",
                          target=str(path))
    parent = path.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write the {what} {str(path)!r}: the directory {str(parent)!r} does not exist; "
                          "create it first", target=str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write the {what} {str(path)!r}: the directory {str(parent)!r} is not writable; "
                          "choose another directory or fix its permissions", target=str(path))
    return path


def _fsync_dir(directory: Path) -> None:
    # make the rename itself durable; not possible on every platform, and not needed for atomicity
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class FileStage:
    """Write files to temporary names now, rename them all into place on :meth:`commit`.

    Use as a context manager: leaving the block by an exception (or without a commit) removes every
    temporary file and leaves every target as it was.

    >>> with FileStage() as stage:                          # doctest: +SKIP
    ...     stage.add("scores.csv", lambda tmp: frame.to_csv(tmp))
    ...     write_the_database()
    ...     stage.commit()
    """

    def __init__(self):
        self._staged: list[tuple[Path, Path]] = []  # (temporary, target)
        self._committed = False

    def add(self, path, write: Callable[[str], None], what: str = "file") -> Path:
        """Check ``path``, sweep its stale temporaries and call ``write(tmp_path)``.

        Parameters
        ----------
        path : path-like
            The target file; it is replaced only by :meth:`commit`.
        write : callable
            ``write(tmp_path)`` writes the whole file to the temporary path it is given.
        what : str, default "file"
            What the file is, for messages (e.g. "CSV export").

        Returns
        -------
        Path
            The target path.
        """
        target = check_file_target(path, what)
        if any(t == target for _, t in self._staged):
            raise ExportError(f"the export writes {str(target)!r} twice; give each target its own file",
                              target=str(target))
        sweep_stale(target)
        tmp = temp_name(target)
        self._staged.append((tmp, target))  # registered first: removed even if write fails half way
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            write(str(tmp))
            with open(tmp, "rb+") as fh:  # the data must be on disk before the rename makes it visible
                os.fsync(fh.fileno())
            os.chmod(tmp, _default_file_mode())
        except OSError as exc:
            if isinstance(exc, ExportFileError):
                raise
            raise ExportFileError(f"cannot write the {what} {str(target)!r}: {exc}; the previous file is "
                                  "untouched", target=str(target)) from exc
        return target

    @property
    def targets(self) -> list[Path]:
        return [target for _, target in self._staged]

    def commit(self) -> list[Path]:
        """Rename every staged file over its target (in the order added); returns the targets."""
        for i, (tmp, target) in enumerate(self._staged):
            try:
                os.replace(tmp, target)
            except OSError as exc:
                done = [str(t) for _, t in self._staged[:i]]
                raise ExportFileError(f"cannot move the new {str(target)!r} into place ({exc}); already replaced: "
                                      f"{done or 'none'}", target=str(target)) from exc
        for directory in {target.parent for _, target in self._staged}:
            _fsync_dir(directory)
        self._committed = True
        return self.targets

    def discard(self) -> None:
        """Remove every temporary file that was not renamed into place."""
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def __enter__(self) -> "FileStage":
        return self

    def __exit__(self, *exc_info) -> None:
        if not self._committed:
            self.discard()


def atomic_write(path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``.

    Returns the final path. The directory must exist; on any exception (or interrupt) the
    temporary file is removed and ``path`` is untouched.
    """
    with FileStage() as stage:
        stage.add(path, write)
        return stage.commit()[0]
