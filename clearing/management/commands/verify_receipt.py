"""``manage.py verify_receipt FILE.json [--key KEY.pem]``: checks a receipt's RFC 9162 inclusion
proof and its signed head (exit 0 when valid)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clearing.management.commands.verify_statement import public_keys
from clearing.verify import verify_receipt


class Command(BaseCommand):
    help = "Verify a cardholder receipt (RFC 9162 inclusion proof + Ed25519-signed cycle head)."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("file")
        parser.add_argument("--key")

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        try:
            receipt = json.loads(Path(opts["file"]).read_bytes())
            keys = public_keys(opts["key"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if isinstance(receipt, dict) and "receipt" in receipt and "leaf" not in receipt:
            receipt = receipt["receipt"]
        problems = verify_receipt(receipt, keys)
        if problems:
            raise CommandError("INVALID: " + "; ".join(problems))
        self.stdout.write("OK: receipt valid")
