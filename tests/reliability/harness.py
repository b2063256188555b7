"""Harnesses for the reliability tests (issue 7).

- :class:`HmacAuth`: a ``requests`` auth hook signing each prepared request as spec/security.md says
  (``METHOD\\npath?query\\nX-Timestamp\\nX-Nonce\\nsha256(body)``), so generated (schemathesis) and
  hand-written requests to a live server are signed from the exact bytes on the wire.
- :class:`ThrowawayPostgres` / :class:`ThrowawayRedis`: private PostgreSQL cluster (``initdb`` into a
  temp dir, run as the ``postgres`` OS user) and ``redis-server`` on free ports, which the fault tests
  may stop and start. The shared instances on 5432/6379 are never touched.
- :class:`LiveService`: the project under gunicorn, pointed at given ``DATABASE_URL``/``REDIS_URL``,
  migrated and loaded with ``data/examples`` before it starts.
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = (
    str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
)
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(interval)
    return False


class HmacAuth(requests.auth.AuthBase):
    """Signs a prepared request with an institution client's secret (spec/security.md)."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.client_id, self.secret = client_id, secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        target = r.path_url  # exactly what goes on the request line (gunicorn's RAW_URI)
        ts = str(int(time.time()))
        nonce = secrets.token_urlsafe(18)
        sts = "\n".join([r.method or "GET", target, ts, nonce, hashlib.sha256(body).hexdigest()])
        r.headers["X-Client-Id"] = self.client_id
        r.headers["X-Timestamp"] = ts
        r.headers["X-Nonce"] = nonce
        r.headers["X-Signature"] = hmac.new(self.secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
        return r


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class ThrowawayPostgres:
    """A private PostgreSQL cluster on a free port (trust auth, fsync off). ``stop()``/``start()``
    simulate an outage; ``cleanup()`` removes everything."""

    def __init__(self, dbname: str = "ks_g_fault") -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bindir = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="ks_g_pg_"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.dbname = dbname
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _as_postgres(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *cmd], check=check, capture_output=True, text=True, timeout=60
        )

    def start(self, extra: str = "") -> None:
        """Start the cluster; ``extra``: more ``-c name=value`` server options."""
        # fsync off is safe here: the tests kill the server process, never the machine, and the OS
        # keeps what was written. synchronous_commit stays ON: an acknowledged commit must survive
        # an immediate stop, which is exactly what the outage test checks.
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c full_page_writes=off -c max_connections=50 {extra}"
        )
        self._as_postgres(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                opts,
                "-l",
                str(self.dir / "log"),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )

    def create_db(self) -> None:
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                f"CREATE DATABASE {self.dbname}",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], check=False
        )

    def psql(self, sql: str) -> str:
        out = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                self.dbname,
                "-XAtqc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.strip()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayRedis:
    """A private ``redis-server`` (no persistence) on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        if not wait_until(lambda: redis.Redis(port=self.port, socket_timeout=1).ping(), 15):
            raise RuntimeError("throw-away redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    cleanup = stop


class LiveService:
    """The project under gunicorn on a free port with its own environment.

    ``prepare()`` migrates the database and loads ``data/examples``; ``start()`` runs gunicorn;
    ``client(code)`` creates an API client for an institution and returns ``(client_id, secret)``.
    Logs (stdout and stderr of every subprocess) go to ``self.log_path``.
    """

    def __init__(self, env: dict[str, str], workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONUNBUFFERED": "1", **env}
        for k in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
            if k not in env:
                self.env.pop(k, None)
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="ks_g_service_", suffix=".log")[1])
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 300, log: bool = True) -> str:
        """Run ``manage.py args`` in the service's environment; its output goes to the service log
        unless ``log`` is false (e.g. a test's own read-out of decrypted values)."""
        out = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if log:
            self._log.write(out.stdout.encode() + out.stderr.encode())
            self._log.flush()
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def prepare(self) -> None:
        self.manage("migrate", "--no-input")
        self.manage("import_reference", str(ROOT / "data" / "examples"))

    def client(self, fixmedins_code: str) -> tuple[str, str]:
        line = self.manage("create_client", fixmedins_code).strip().splitlines()[-1]
        data = json.loads(line)
        return data["client_id"], data["secret"]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )
        if not wait_until(lambda: requests.get(self.base_url + "/healthz", timeout=2).status_code == 200, 60):
            self.stop()
            raise RuntimeError(f"gunicorn did not come up; log:\n{self.log_path.read_text()[-4000:]}")

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self._log.closed:
            self._log.close()
        if not os.environ.get("KS_KEEP_SERVICE_LOGS"):  # set it to keep them for a post-mortem
            self.log_path.unlink(missing_ok=True)


def target_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
