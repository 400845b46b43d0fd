"""A throwaway PostgreSQL cluster for tests: initdb into a temporary folder, listen only on a unix
socket there and on 127.0.0.1 at a free port, one database, removed afterwards.

As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root). When no
PostgreSQL binaries exist, `find_bin_dir()` returns None and the caller skips, saying why;
`make test` installs them on Debian first.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_bin_dir() -> Path | None:
    """The newest PostgreSQL bin folder with initdb and pg_ctl, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    for initdb in reversed(candidates):
        folder = Path(initdb).parent
        if (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> tuple[list[str], int | None, int | None]:
    """argv prefix and (uid, gid) to run the server as: ourselves, or `postgres` when we are root."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True, capture_output=True)
        user = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], user.pw_uid, user.pw_gid


@contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[str]:
    """Yield a SQLAlchemy URL (psycopg 3) of a fresh database; stop and delete everything after."""
    prefix, uid, gid = _runner()
    root = Path(tempfile.mkdtemp(prefix="x402-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if uid is not None:
        os.chown(root, uid, gid or -1)
        os.chown(sock, uid, gid or -1)
    port = _free_port()
    log = root / "server.log"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "x402", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c synchronous_commit=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        try:
            run(str(bin_dir / "createdb"), "-h", str(sock), "-p", str(port), "-U", "x402", "catalog")
            yield f"postgresql+psycopg://x402@127.0.0.1:{port}/catalog"
        finally:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
    finally:
        for _ in range(3):
            shutil.rmtree(root, ignore_errors=True)
            if not root.exists():
                break
            time.sleep(0.2)


@contextmanager
def fresh_database(cluster_url: str) -> Iterator[str]:
    """A new, empty database on the throwaway cluster, dropped (with its engines) afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    from index.store.engine import dispose_engine

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = cluster_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        dispose_engine(url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
