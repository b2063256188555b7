"""Behind a real server (gunicorn): body limits, where chunked bodies and early refusals are real,
and the docs page with its assets (no DEBUG, no CDN)."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Its own migrated SQLite file: these tests are about the HTTP layer, and the server must not
    # depend on whatever state (or absence) of the developer's database (the embedded cache table
    # lives there when Redis is not configured).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["SQLITE_PATH"] = str(tmp_path_factory.mktemp("gunicorn") / "db.sqlite3")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
                             "-w", "1", "--timeout", "30"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _problem(resp: http.client.HTTPResponse) -> dict:
    assert resp.getheader("Content-Type") == "application/problem+json"
    return json.loads(resp.read())


def test_content_length_over_limit_is_refused_before_the_body_is_sent(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.putrequest("POST", "/api/v1/whoami")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(6 * MB))
    conn.endheaders()  # not a byte of the body is sent: the answer comes anyway
    resp = conn.getresponse()
    assert resp.status == 413
    assert _problem(resp)["code"] == "body_too_large"


def test_chunked_body_over_limit_is_413(server):
    def chunks():
        for _ in range(7):
            yield b"x" * MB

    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    try:
        conn.request("POST", "/api/v1/whoami", body=chunks(), encode_chunked=True,
                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    except (BrokenPipeError, ConnectionResetError):  # the server may answer and close before the end
        pass
    resp = conn.getresponse()
    assert resp.status == 413
    assert _problem(resp)["code"] == "body_too_large"


def test_small_chunked_body_passes_the_size_check(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.request("POST", "/api/v1/whoami", body=iter([b"{}"]), encode_chunked=True,
                 headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    assert resp.status == 401  # refused for want of credentials, not for its size
    assert _problem(resp)["code"] == "not_authenticated"


def test_docs_page_and_its_assets_are_served_by_gunicorn(server):
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.request("GET", "/api/docs/")
    resp = conn.getresponse()
    html = resp.read().decode()
    assert resp.status == 200
    asset = html.split('src="', 1)[1].split('"', 1)[0]
    assert asset.startswith("/static/drf_spectacular_sidecar/")
    conn.request("GET", asset)
    resp = conn.getresponse()
    assert resp.status == 200 and len(resp.read()) > 10_000


def _raw(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes; ``(status line, headers, body)`` of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines)}, body


@pytest.mark.parametrize(("name", "request_bytes", "status"), [
    ("5,000-character path", b"GET /api/v1/persons/" + b"1" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("Content-Length and Transfer-Encoding", b"POST /api/v1/whoami HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("malformed header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\x01: y\r\n\r\n", 400),
    ("too many headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-%d: y\r\n" % i for i in range(120)) + b"\r\n", 431),
])
def test_the_servers_own_refusals_are_problem_json(server, name, request_bytes, status):  # noqa: ANN001
    """Issue 10 item 4: these got gunicorn's HTML 400 page (gunicorn.conf.py installs the writer)."""
    line, headers, body = _raw(server, request_bytes)
    assert line.startswith(f"HTTP/1.1 {status} "), (name, line)
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status and problem["code"] in ("invalid", "headers_too_large")
    assert set(problem) >= {"type", "title", "status", "detail", "code"}


def test_the_servers_problem_has_the_applications_shape():
    from django.utils import translation

    from config.gunicorn_errors import problem_document
    from core.errors import problem_body

    ours = problem_document(400, "Bad Request", "Invalid request line")
    # the server answers before any language is negotiated: its documents are the English ones
    with translation.override("en"):
        app = problem_body(400, "invalid", "Invalid request line", errors=ours["errors"])
    assert ours == app
