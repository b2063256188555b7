"""HTTP side of the main job and the benchmarks: signed requests (spec/security.md §Signed requests)
written from the spec alone, and the real service (gunicorn) and a Celery worker as subprocesses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

BASE_DIR = Path(__file__).resolve().parent.parent


def body_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(
    client_id: str,
    secret: str,
    method: str,
    target: str,
    body: bytes,
    *,
    ts: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` = hex HMAC-SHA256(secret,
    METHOD \\n target \\n timestamp \\n nonce \\n hex SHA-256(body))."""
    ts_s = str(int(time.time()) if ts is None else ts)
    nonce = nonce or secrets.token_urlsafe(18)
    sts = "\n".join([method.upper(), target, ts_s, nonce, hashlib.sha256(body).hexdigest()])
    sig = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Client-Id": client_id,
        "X-Timestamp": ts_s,
        "X-Nonce": nonce,
        "X-Signature": sig,
        "Content-Type": "application/json",
    }


@dataclass
class Client:
    """An institution's API client (``create_client``)."""

    client_id: str
    secret: str


class Api:
    """A thread-safe signed HTTP client: one ``requests.Session`` per thread."""

    def __init__(self, base_url: str, timeout: float = 600.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def signed(
        self,
        client: Client,
        method: str,
        target: str,
        obj: Any = None,
        *,
        raw: bytes | None = None,
        **sign_kw: Any,
    ) -> requests.Response:
        body = raw if raw is not None else (b"" if obj is None else body_bytes(obj))
        headers = signed_headers(client.client_id, client.secret, method, target, body, **sign_kw)
        return self.session.request(
            method, self.base_url + target, data=body or None, headers=headers, timeout=self.timeout
        )

    def bearer(self, token: str, method: str, target: str, obj: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return self.session.request(
            method, self.base_url + target, json=obj, headers=headers, timeout=self.timeout
        )

    def post(self, target: str, obj: Any) -> requests.Response:
        return self.session.post(self.base_url + target, json=obj, timeout=self.timeout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """The real service under gunicorn on 127.0.0.1 (a free port), and optionally a Celery worker.

    Use as a context manager; both subprocesses are ended (by their own pid) on exit.
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        threads: int = 2,
        celery: bool = False,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.workers, self.threads, self.celery = workers, threads, celery
        self.env = dict(os.environ, **(env or {}))
        self.log_dir = log_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []

    def _log(self, name: str):  # noqa: ANN202
        if self.log_dir is None:
            return subprocess.DEVNULL
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return (self.log_dir / name).open("ab")

    def start(self) -> Service:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "600",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
        ]
        self.procs.append(
            subprocess.Popen(
                cmd,
                cwd=BASE_DIR,
                env=self.env,
                stdout=self._log("gunicorn.log"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        if self.celery:
            cmd = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "warning",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"demo{self.port}@%h",
            ]
            self.procs.append(
                subprocess.Popen(
                    cmd,
                    cwd=BASE_DIR,
                    env=self.env,
                    stdout=self._log("celery.log"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[0].poll() is not None:
                raise RuntimeError("gunicorn exited at start (see its log)")
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # its own session: gunicorn master + its workers
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
