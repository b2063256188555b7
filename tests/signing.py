"""Test clients: institution requests signed as spec/security.md says, and bearer-token clients."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from django.test import Client


class SignedClient:
    """Signs every request with the client's secret; ``json`` bodies are UTF-8 JSON."""

    def __init__(self, client_id: str, secret: str, *, django_client: Client | None = None) -> None:
        self.client_id, self.secret = client_id, secret
        self.http = django_client or Client()

    def headers(self, method: str, target: str, body: bytes, *, ts: int | None = None,
                nonce: str | None = None, secret: str | None = None) -> dict[str, str]:
        ts_s = str(int(time.time()) if ts is None else ts)
        nonce = nonce or secrets.token_hex(12)
        sts = "\n".join([method, target, ts_s, nonce, hashlib.sha256(body).hexdigest()])
        sig = hmac.new((secret or self.secret).encode(), sts.encode(), hashlib.sha256).hexdigest()
        return {"X-Client-Id": self.client_id, "X-Timestamp": ts_s, "X-Nonce": nonce, "X-Signature": sig}

    def request(self, method: str, target: str, body: Any = None, *, raw: bytes | None = None,
                content_type: str = "application/json", **sign_kw: Any):
        if raw is not None:
            data = raw
        else:
            data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        h = self.headers(method, target, data, **sign_kw)
        path, _, query = target.partition("?")
        kwargs: dict[str, Any] = {"headers": h}
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["data"] = data
            kwargs["content_type"] = content_type
        if query:
            kwargs["QUERY_STRING"] = query
        return getattr(self.http, method.lower())(path, **kwargs)

    def post(self, target: str, body: Any = None, **kw: Any):
        return self.request("POST", target, body, **kw)

    def get(self, target: str, **kw: Any):
        return self.request("GET", target, **kw)


class BearerClient:
    """A Django test client sending ``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.http = Client()

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any):
        return self.http.get(path, headers=self._h(), **kw)

    def post(self, path: str, body: Any = None, *, content_type: str = "application/json",
             raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {}, ensure_ascii=False)
        return self.http.post(path, data=data, content_type=content_type, headers=self._h())

    def delete(self, path: str):
        return self.http.delete(path, headers=self._h())
