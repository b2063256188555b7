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


# What production needs from the environment, with the format of each (spec/operations.md §Settings).
REQUIRED_IN_PRODUCTION = {
    "DJANGO_SECRET_KEY": "a long random string (50 URL-safe characters)",
    "DJANGO_ALLOWED_HOSTS": "comma-separated host names the service answers to, e.g. kuasheng.example.cn",
    "SETTLEMENT_ENCRYPTION_KEYS": "AES-256 keys for personal data, 'kid:base64(32 bytes)' comma-separated; "
                                  "the last encrypts, all decrypt",
    "SETTLEMENT_BLIND_INDEX_KEY": "base64 of 32 random bytes (HMAC key of the certno/card blind indexes)",
    "CLEARING_SIGNING_KEY": "Ed25519 signing keys, 'kid:base64(32-byte seed)' comma-separated; the last "
                            "signs, all are published",
}


def missing_settings_message(missing: list[str]) -> str:
    """One message naming every missing production setting and its format, and how to make them."""
    lines = [f"production (DJANGO_ENV=production) cannot start: {len(missing)} setting(s) missing "
             "from the environment:"]
    lines += [f"  {name} must be set: {REQUIRED_IN_PRODUCTION.get(name, '')}" for name in missing]
    lines.append("  `python manage.py generate_keys` (run without DJANGO_ENV) prints all of them.")
    return "\n".join(lines)


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
