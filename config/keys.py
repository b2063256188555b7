"""Local key file for the embedded default (spec/operations.md §Settings).

On first run outside production, random keys are generated into ``.local/keys.json`` (git-ignored)
so that a fresh clone works without any set-up. Production never reads this file.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


def generate() -> dict[str, str]:
    """Fresh keys: Django secret, AES-256 key (kid ``k1``), blind-index key, Ed25519 seed (kid ``s1``)."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SETTLEMENT_ENCRYPTION_KEYS": f"k1:{_b64(32)}",
        "SETTLEMENT_BLIND_INDEX_KEY": _b64(32),
        "CLEARING_SIGNING_KEY": f"s1:{_b64(32)}",
    }


def load_or_create(path: Path, *, allow_generate: bool) -> dict[str, str]:
    """Return the key file's values, creating it (mode 0600) when allowed and missing."""
    if path.exists():
        return json.loads(path.read_text())
    if not allow_generate:
        return {}
    path.parent.mkdir(parents=True, exist_ok=True)
    values = generate()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh, indent=2)
    try:
        os.link(tmp, path)  # atomic: a concurrent first run keeps the winner's keys
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)
    return json.loads(path.read_text())
