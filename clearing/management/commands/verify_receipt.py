"""``manage.py verify_receipt FILE.json [--key KEY.pem]``: checks a receipt's RFC 9162 inclusion
proof and its signed head (exit 0 when valid) and says which key it trusted. A file that is not a
receipt (a statement, a head) is named as such, with the command that checks it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clearing.management.verifying import (
    KEY_HELP,
    RECEIPT_FIELDS,
    json_object,
    kind_of,
    read_bytes,
    trust_anchor,
)
from clearing.verify import verify_receipt


class Command(BaseCommand):
    help = "Verify a cardholder receipt (RFC 9162 inclusion proof + Ed25519-signed cycle head)."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("file", help="the receipt (GET /api/v1/me/settlements/{setl_id}/receipt)")
        parser.add_argument("--key", help=KEY_HELP)

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        path = opts["file"]
        receipt = json_object(read_bytes(path, "receipt"), path)
        if "receipt" in receipt and "leaf" not in receipt and isinstance(receipt["receipt"], dict):
            receipt = receipt["receipt"]
        kind = kind_of(receipt)
        if kind in ("statement", "head"):
            raise CommandError(f"{path} is a signed {kind}, not a receipt: check it with "
                               f"manage.py verify_statement {path} --sig <its .sig file> --key KEY.pem")
        missing = [f for f in RECEIPT_FIELDS if f not in receipt]
        if missing:
            raise CommandError(f"{path} is not a receipt: missing {', '.join(missing)}")
        keys, anchor = trust_anchor(opts["key"])
        problems = verify_receipt(receipt, keys)
        if problems:
            raise CommandError(f"INVALID: {'; '.join(problems)} ({anchor})")
        self.stdout.write(f"OK: receipt valid ({anchor})")
