"""Production settings: ``check --deploy`` clean, and no start without explicit keys (issue 2 §2)."""
from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _b64() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SETTLEMENT_", "CLEARING_"))}
    env.update({
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "kuasheng.example",
        "SETTLEMENT_ENCRYPTION_KEYS": f"k1:{_b64()}",
        "SETTLEMENT_BLIND_INDEX_KEY": _b64(),
        "CLEARING_SIGNING_KEY": f"s1:{_b64()}",
    })
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_under_production_settings():
    """On the embedded database: with PostgreSQL the suite's superuser role is rightly warned about
    (``kuasheng.W001``, tests/core/test_audit_sealing.py)."""
    proc = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DATABASE_URL=""))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues (0 silenced)." in proc.stdout


def test_production_refuses_to_start_without_each_key():
    for name in ("DJANGO_SECRET_KEY", "SETTLEMENT_ENCRYPTION_KEYS", "SETTLEMENT_BLIND_INDEX_KEY",
                 "CLEARING_SIGNING_KEY", "DJANGO_ALLOWED_HOSTS"):
        proc = manage("check", env=production_env(**{name: ""}))
        assert proc.returncode != 0, name
        assert "ImproperlyConfigured" in proc.stderr and name in proc.stderr, proc.stderr[-500:]


def test_production_never_reads_the_local_key_file():
    """With ``.local/keys.json`` holding every key, production still wants them from the environment."""
    keyfile = ROOT / ".local" / "keys.json"
    if not keyfile.exists():  # the embedded default writes it on first use; make sure it is there
        manage("check", env={k: v for k, v in os.environ.items() if k != "DJANGO_ENV"})
    assert "SETTLEMENT_ENCRYPTION_KEYS" in keyfile.read_text()
    proc = manage("check", env=production_env(SETTLEMENT_ENCRYPTION_KEYS=""))
    assert proc.returncode != 0
    assert "SETTLEMENT_ENCRYPTION_KEYS must be set" in proc.stderr
