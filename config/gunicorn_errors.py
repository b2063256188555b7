"""The HTTP server's own refusals as problem+json (spec/README.md §Errors: every error a client can
see is ``application/problem+json``).

Gunicorn answers some requests before the application sees them: a request line over
``limit_request_line`` (4094 bytes; e.g. a 5,000-character path), both ``Content-Length`` and
``Transfer-Encoding`` (request smuggling, RFC 9112 §6.1), malformed header names or values, too many
or too large header fields (431), an unsupported transfer coding (501). It writes those with
``gunicorn.util.write_error``, as an HTML page; :func:`install` (called from ``gunicorn.conf.py``,
which gunicorn loads from the working directory) replaces it with :func:`write_problem`, for every
worker class. No Django import: this runs in the master before the application is loaded, so the
document is built here in the shape of ``core.errors.problem_body`` (a test compares the two).
"""
from __future__ import annotations

import json
import socket
from typing import Any

CODES = {400: "invalid", 403: "forbidden", 431: "headers_too_large", 500: "server_error",
         501: "not_implemented"}


def problem_document(status: int, reason: str, message: str) -> dict[str, Any]:
    """``{"type", "title", "status", "detail", "code"}`` (+ ``errors`` naming ``request`` for a 400)."""
    code = CODES.get(status, "server_error" if status >= 500 else "invalid")
    detail = message if status < 500 else "The server could not handle the request."
    body: dict[str, Any] = {"type": f"https://kuasheng.example/problems/{code}", "title": reason,
                            "status": status, "detail": detail or reason, "code": code}
    if code == "invalid":
        body["errors"] = [{"field": "request", "code": "malformed_request", "message": detail or reason}]
    return body


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error``: the same status line, a problem+json body."""
    from gunicorn.util import write_nonblock

    body = json.dumps(problem_document(status_int, reason, mesg), ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nCache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    """Make gunicorn write its own refusals with :func:`write_problem`."""
    import gunicorn.util

    gunicorn.util.write_error = write_problem  # type: ignore[assignment]
