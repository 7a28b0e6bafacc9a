"""Files pishkhan keeps: a data directory only its owner can enter, files only its owner can read.

The data directory holds the SQLite database (the world's personal data, credential hashes, the
sealed CA keys), ``secrets.json`` and ``demo-credentials.json``. It is created 0700 and every
file pishkhan writes in it 0600; a data directory or database file found open to the group or
to others (made by an older version, or by hand) is tightened, with a warning in the log.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from pishkhan.core.logging import log_event

log = logging.getLogger("pishkhan.files")

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int, what: str) -> None:
    """chmod ``path`` to ``mode`` when the group or others have any access to it."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not current & 0o077:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:  # not ours (another owner): say so, the operator decides
        log_event(
            log,
            f"could not restrict the {what}",
            level=logging.WARNING,
            path=str(path),
            mode=oct(current),
            error=str(exc),
        )
        return
    log_event(
        log,
        f"restricted the {what} to its owner",
        level=logging.WARNING,
        path=str(path),
        was=oct(current),
        now=oct(mode),
    )


def private_dir(path: Path) -> Path:
    """Create the data directory 0700 (its missing parents too), or tighten an existing one."""
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask; make it exact
    else:
        _tighten(path, DIR_MODE, "data directory")
    return path


def private_database_file(path: Path) -> None:
    """Before SQLite opens ``path``: create it empty with mode 0600, or tighten an existing one.

    SQLite creates the ``-wal`` and ``-shm`` files with the mode of the database file, so they
    are 0600 too, as is the credential signal file ``-credentials``
    (``pishkhan.tenants.credentials.Signal``); existing ones (left by an older version) are
    tightened with it. A missing parent
    directory is created 0700; an existing one is left as it is (it may be shared, e.g. ``/tmp``;
    the data directory itself is tightened by :func:`private_dir`).
    """
    if not path.parent.is_dir():
        private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        for suffix in ("", "-wal", "-shm", "-credentials"):
            _tighten(Path(f"{path}{suffix}"), FILE_MODE, "database file")
        return
    os.close(fd)  # an empty file is an empty SQLite database


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (mode 0600) atomically: a 0600 temporary file renamed over it,
    so the content is never readable by others, nor half-written."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing temporary file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)
    return path
