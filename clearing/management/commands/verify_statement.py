"""``manage.py verify_statement FILE.json --sig FILE.sig [--key KEY.pem]``: checks a head or
statement's canonical bytes against its raw Ed25519 signature (exit 0 when valid) and says which
key it trusted (``clearing.management.verifying``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clearing.management.verifying import KEY_HELP, read_bytes, trust_anchor
from clearing.verify import verify_signed_document


class Command(BaseCommand):
    help = "Verify a signed statement or cycle head (canonical JSON bytes + raw Ed25519 signature)."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("file", help="canonical bytes of a statement or head (statement.json, head.json)")
        parser.add_argument("--sig", required=True, help="the raw 64-byte Ed25519 signature (statement.sig)")
        parser.add_argument("--key", help=KEY_HELP)

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        data = read_bytes(opts["file"], "document")
        sig = read_bytes(opts["sig"], "signature")
        keys, anchor = trust_anchor(opts["key"])
        problems = verify_signed_document(data, sig, keys)
        if problems:
            raise CommandError(f"INVALID: {'; '.join(problems)} ({anchor})")
        self.stdout.write(f"OK: signature valid ({anchor})")
