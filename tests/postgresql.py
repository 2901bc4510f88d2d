"""A throw-away PostgreSQL server for the tests: PostgreSQL 15 from Debian's packages, a cluster
made by `initdb` in a temporary directory, listening on loopback only, stopped at the end.

`python -m tests.postgresql install` installs the server with apt-get when it is missing (the
test command runs it first). The cluster itself is started by the `postgresql` fixture in
conftest, once per test session and only when a test needs it; each test gets its own database,
copied from a template that is migrated once.

initdb refuses to run as root: as root, the cluster belongs to an unprivileged system user
(`visnyk-pg`, made when missing) and its commands run through `runuser`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

VERSION = "15"
PACKAGE = f"postgresql-{VERSION}"
OWNER = "visnyk-pg"  # the cluster's owner when the tests run as root


def bindir() -> Path | None:
    """Where the server's programs are (Debian keeps them out of PATH), or None."""
    candidates = [Path(f"/usr/lib/postgresql/{VERSION}/bin")]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for d in candidates:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def install() -> None:
    """Install the server from Debian's packages when it is missing."""
    if bindir() is not None:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {PACKAGE} with apt-get", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE],
        check=True,
        env=env,
    )
    if bindir() is None:
        sys.exit(f"{PACKAGE} installed, but initdb is not found")


def _owner() -> list[str]:
    """The command prefix that runs a program as the cluster's owner."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(OWNER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OWNER],
            check=True,
        )
    return ["runuser", "-u", OWNER, "--"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(command: list[str]) -> None:
    """Run a server program; when it fails, say what it said."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


@dataclass(frozen=True)
class Cluster:
    directory: Path
    port: int

    def url(self, database: str, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The address for asyncpg itself."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """A new cluster, running until the block ends (then stopped at once and deleted)."""
    bins = bindir()
    if bins is None:
        raise RuntimeError(
            f"PostgreSQL is not installed: run `python -m tests.postgresql install` ({PACKAGE})"
        )
    as_owner = _owner()
    directory = Path(tempfile.mkdtemp(prefix="visnyk-pg-"))
    data = directory / "data"
    if as_owner:
        shutil.chown(directory, OWNER)
    port = _free_port()
    try:
        _run(
            [
                *as_owner,
                str(bins / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        # Durability is no concern of a throw-away cluster: without fsync it is much faster.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        _run(
            [
                *as_owner,
                str(bins / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ]
        )
        try:
            yield Cluster(directory, port)
        finally:
            subprocess.run(
                [*as_owner, str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        install()
    elif sys.argv[1:] == ["shell"]:  # a cluster to try things in, until Enter
        with cluster() as c:
            print(c.url("postgres"), flush=True)
            input()
    else:
        sys.exit("usage: python -m tests.postgresql install|shell")
