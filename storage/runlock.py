"""One running bot per SQLite file: an advisory lock that `visnyk run` holds while it lives.

Two processes sending from one database would both drain its outbox: every reader would get
each story twice, and the two would share Telegram's limits without knowing it. The lock is
`flock` on a file beside the database (`visnyk.db.run.lock`, holding the owner's pid for the
message); the kernel releases it when the process ends in any way, `kill -9` included, so a
crash never leaves a stale lock behind. One-off commands (`ingest --once`, `db backup`) take no
lock: SQLite's own locking serves them beside a running bot. Other databases: nothing here
(several processes on one PostgreSQL database is another matter: a leader lock there).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from storage.backup import NotSQLite, sqlite_file
from storage.errors import StorageError


class AlreadyRunning(StorageError):
    """Another process holds the database's run lock."""


class RunLock:
    """Held from `acquire` until `release` or the end of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    @classmethod
    def for_url(cls, url: str) -> RunLock | None:
        """The lock of the SQLite file `url` points at; None for other databases and memory."""
        try:
            database = sqlite_file(url)
        except NotSQLite:
            return None
        return cls(database.with_name(database.name + ".run.lock"))

    def acquire(self) -> None:
        """Take the lock, or raise AlreadyRunning naming the process that has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "?"
            file.close()
            raise AlreadyRunning(
                f"another visnyk process (run or db copy) is using this database (pid {holder}; "
                f"lock {self.path}): "
                "one bot per database, or every reader gets each message twice"
            ) from None
        except OSError as e:
            file.close()
            raise StorageError(f"cannot lock {self.path}: {e.strerror}") from e
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the lock
            self._file = None
