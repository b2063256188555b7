"""A primary with a streaming replica and a PgBouncer in front, all from Debian's packages on
loopback ports (issue 15 item 6; docs/scaling.md §PgBouncer for the settings used here).

- :class:`StreamingReplica`: ``pg_basebackup -R`` of a :class:`harness.ThrowawayPostgres` primary,
  started as a hot standby on its own port;
- :class:`ThrowawayPgBouncer`: ``pgbouncer`` in transaction pooling mode in front of the primary,
  switching to the ``postgres`` OS user itself (it refuses to run as root).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.reliability.harness import ThrowawayPostgres, free_port, wait_until

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


class StreamingReplica(ThrowawayPostgres):
    """A hot standby of ``primary`` (same database name), streaming from it."""

    def __init__(self, primary: ThrowawayPostgres) -> None:  # noqa: D107 - no initdb: a base backup
        self.bindir = primary.bindir
        self.dir = Path(tempfile.mkdtemp(prefix="ks_g_replica_"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.dbname = primary.dbname
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            [str(self.bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "-D", str(self.data), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"]
        )

    def replay_lsn_reached(self, lsn: str) -> bool:
        return self.psql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") == "t"


class ThrowawayPgBouncer:
    """``pgbouncer`` on a free port, transaction pooling, in front of ``primary``'s database."""

    def __init__(self, primary: ThrowawayPostgres, pool_size: int = 4) -> None:
        self.primary = primary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ks_g_pgbouncer_"))
        self.ini = self.dir / "pgbouncer.ini"
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        self.ini.write_text(
            "[databases]\n"
            # timezone=UTC: server connections start in UTC, so Django never sends SET TIME ZONE
            f"{primary.dbname} = host=127.0.0.1 port={primary.port} dbname={primary.dbname} timezone=UTC\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir = {self.dir}\n"
            f"auth_type = trust\nauth_file = {self.dir / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\nmax_client_conn = 200\n"
            "server_reset_query =\n"
            # an outage of the primary answers quickly instead of queueing clients for 2 minutes
            "query_wait_timeout = 5\nserver_connect_timeout = 3\nserver_login_retry = 1\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\npidfile = {self.dir / 'pgbouncer.pid'}\n"
        )
        shutil.chown(self.dir, "postgres", "postgres")
        for f in self.dir.iterdir():
            shutil.chown(f, "postgres", "postgres")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.primary.dbname}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PGBOUNCER, "-u", "postgres", str(self.ini)],  # drops to the postgres user itself
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import psycopg

        if not wait_until(lambda: psycopg.connect(self.url, connect_timeout=2).close() is None, 20):
            raise RuntimeError(f"pgbouncer did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)
