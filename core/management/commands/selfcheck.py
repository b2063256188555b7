"""``manage.py selfcheck``: a short check that the installed service answers (used by ``make demo``
until the full ``demo`` command exists). Exit 0 when everything answers as expected."""
from __future__ import annotations

import logging
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from core.audit import audit_seal, audit_verify

# (path, expected status, expected content type prefix)
PROBES = [
    ("/healthz", 200, "application/json"),
    ("/readyz", 200, "application/json"),
    ("/api/schema/", 200, "application/vnd.oai.openapi"),
    ("/api/docs/", 200, "text/html"),
    ("/api/v1/whoami", 401, "application/problem+json"),
    ("/no-such-page", 404, "application/problem+json"),
]


class Command(BaseCommand):
    help = "Runs Django's system checks, probes the health, schema and error endpoints, verifies the audit."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("check", verbosity=0)
        # The 401/404 probes are expected; Django would log each as a warning.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        http = Client(raise_request_exception=False)
        failures = []
        for path, status, ctype in PROBES:
            resp = http.get(path)
            ok = resp.status_code == status and resp.get("Content-Type", "").startswith(ctype)
            self.stdout.write(f"  {'ok  ' if ok else 'FAIL'} GET {path} -> {resp.status_code} "
                              f"{resp.get('Content-Type', '')}")
            if not ok:
                failures.append(path)
        sealed = audit_seal()
        verdict = audit_verify()
        self.stdout.write(f"  {'ok  ' if verdict.ok else 'FAIL'} audit chain: sealed now {sealed}, "
                          f"checked {verdict.checked}, unsealed {verdict.unsealed}")
        if failures or not verdict.ok:
            raise CommandError(f"self-check failed: {failures or verdict.reason}")
        self.stdout.write("self-check passed")
