"""The key-path view of the file backend: every committed object as a plain file.

After a write commits in the index, its body is published at ``{root}/{key}`` as a hard
link to the body file in ``.asciihub-store/blobs/``: linked to a temp name in the key's
directory, renamed over the key path (atomic), and the directory fsynced. A delete
unlinks the key path and removes the directories it leaves empty. The view is for
people and tools that look at the directory; the store itself reads through the index.

Every change to the view runs under the index's write lock, after reading the committed
row, so the last change to a path always matches the index. A crash between a commit
and its view change leaves the view behind (never the index): the store repairs it on
open when an earlier store on the directory ended without closing (see
:class:`OpenMark`), and on every ``sweep()``.

A key that cannot be placed is skipped and logged once per process; the index (and so
the API) keeps it: a key with an empty segment (``a//b``, a trailing ``/``), a segment
too long for the file system, a key whose path is a directory of other keys (``a``
while ``a/b`` exists) or runs through another key's file (``a/b`` while ``a`` exists).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asciihub.storage.objects._files import TEMP_SUFFIX, fsync_dir
from asciihub.storage.objects.keys import is_reserved_segment

log = logging.getLogger(__name__)

VIEW_TEMP_PREFIX = ".asciihub-view."
"""Name start of a link waiting to be renamed over a key path (left only by a crash)."""
_UNPLACEABLE = {errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ENOTEMPTY}
_MAX_WARNED = 10_000


class KeyView:
    """Places, checks and removes the files of the view under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._warned: set[str] = set()

    def path_of(self, key: str) -> Path | None:
        """The view file of ``key``, or None when the key has an empty path segment."""
        parts = key.split("/")
        if "" in parts:
            return None
        return self.root.joinpath(*parts)

    def is_current(self, key: str, blob: Path) -> bool:
        """True when the file at the key's path is the body file ``blob`` itself."""
        path = self.path_of(key)
        if path is None:
            return False
        try:
            view = os.lstat(path)
            body = os.stat(blob)
        except OSError:
            return False
        return stat.S_ISREG(view.st_mode) and (view.st_dev, view.st_ino) == (
            body.st_dev,
            body.st_ino,
        )

    def place(self, key: str, blob: Path) -> list[Path]:
        """Publish ``blob`` at the key's path; return the directories changed (to fsync).

        An empty list means nothing changed: the view was current, or the key cannot be
        placed (logged once). Other file-system errors are raised.
        """
        path = self.path_of(key)
        if path is None:
            self._skip(key, "it has an empty path segment")
            return []
        if self.is_current(key, blob):
            return []
        try:
            changed = self._make_parents(path.parent)
            temp = path.parent / f"{VIEW_TEMP_PREFIX}{secrets.token_hex(8)}"
            os.link(blob, temp)
            try:
                os.rename(temp, path)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            if exc.errno not in _UNPLACEABLE:
                raise
            self._skip(key, f"the path conflicts ({os.strerror(exc.errno or 0)})")
            return []
        return changed

    def remove(self, key: str) -> list[Path]:
        """Unlink the view file of ``key`` if there is one; return the directories changed."""
        path = self.path_of(key)
        return [] if path is None else self.remove_file(path)

    def remove_file(self, path: Path) -> list[Path]:
        """Unlink the regular file ``path`` and prune the directories it leaves empty."""
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return []
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return []
        directory = path.parent
        while directory != self.root:
            try:
                directory.rmdir()
            except OSError:
                break
            directory = directory.parent
        return [directory]

    def strays(self) -> Iterator[tuple[str, Path]]:
        """Files that look like view files (a body's hard link, or a leftover temp link).

        Yields ``(key, path)``; the caller removes those whose key has no committed row.
        Files with a single link and other names are never yielded: they are not ours.
        """
        top = str(self.root)
        for directory, subdirs, files in os.walk(top):
            if directory == top:
                subdirs[:] = [name for name in subdirs if not is_reserved_segment(name)]
            relative = os.path.relpath(directory, top)
            for name in files:
                full = os.path.join(directory, name)
                try:
                    info = os.lstat(full)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                if info.st_nlink > 1 or name.startswith(VIEW_TEMP_PREFIX):
                    key = name if relative == "." else f"{relative.replace(os.sep, '/')}/{name}"
                    try:
                        key.encode("utf-8")
                    except UnicodeEncodeError:
                        continue  # not a name this store wrote
                    yield key, Path(full)

    def _make_parents(self, directory: Path) -> list[Path]:
        missing: list[Path] = []
        probe = directory
        while probe != self.root and not probe.is_dir():
            missing.append(probe)
            probe = probe.parent
        for created in reversed(missing):
            created.mkdir()
        return [created.parent for created in reversed(missing)] + [directory]

    def _skip(self, key: str, reason: str) -> None:
        if key in self._warned:
            return
        if len(self._warned) < _MAX_WARNED:
            self._warned.add(key)
        log.warning(
            "event=object_view_skipped key=%r reason=%r note=%r",
            key,
            reason,
            "the object is stored and readable; it has no file at its key path",
        )


def fsync_dirs(directories: set[Path]) -> None:
    """fsync each directory that still exists (a later delete may have pruned it)."""
    for directory in directories:
        try:
            fsync_dir(directory)
        except FileNotFoundError:
            continue


class OpenMark:
    """A file in ``live/`` held under ``flock`` for as long as a store is open.

    The file is created and locked in ``tmp/`` and then renamed into ``live/``, so a mark
    in ``live/`` that anybody can lock belongs to a store that never closed: its process
    died, maybe between a commit and the view change that follows it.
    """

    def __init__(self, live_dir: Path, tmp_dir: Path) -> None:
        live_dir.mkdir(exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(8)}"
        temp = tmp_dir / f"{name}{TEMP_SUFFIX}"
        descriptor = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.rename(temp, live_dir / name)
            fsync_dir(live_dir)
        except BaseException:
            os.close(descriptor)
            temp.unlink(missing_ok=True)
            raise
        self.path = live_dir / name
        self._descriptor: int | None = descriptor

    def close(self) -> None:
        """Remove the mark and release its lock (idempotent)."""
        if self._descriptor is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._descriptor)
        self._descriptor = None


@contextmanager
def abandoned_marks(live_dir: Path) -> Iterator[list[Path]]:
    """The marks in ``live_dir`` whose stores ended without closing, locked by us.

    They are removed when the block ends without an error (the caller has repaired the
    view); after an error they stay, so the next opener repairs again.
    """
    claimed: list[tuple[Path, int]] = []
    try:
        for entry in os.scandir(live_dir):
            try:
                descriptor = os.open(entry.path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)  # its store is open
                continue
            claimed.append((Path(entry.path), descriptor))
        yield [path for path, _ in claimed]
        for path, _ in claimed:
            path.unlink(missing_ok=True)
    finally:
        for _, descriptor in claimed:
            os.close(descriptor)
