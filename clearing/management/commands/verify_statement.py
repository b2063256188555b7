"""``manage.py verify_statement FILE.json --sig FILE.sig [--key KEY.pem]``: checks a head or
statement's canonical bytes against its raw Ed25519 signature (exit 0 when valid). Without
``--key`` the configured public keys are tried."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clearing.verify import load_public_key, verify_signed_document


def public_keys(key_path: str | None) -> list:
    if key_path:
        return [load_public_key(Path(key_path).read_bytes())]
    from core.crypto import signing_keys

    return [k.public for k in signing_keys()]


class Command(BaseCommand):
    help = "Verify a signed statement or cycle head (canonical JSON bytes + raw Ed25519 signature)."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("file", help="canonical bytes of a statement or head (statement.json, head.json)")
        parser.add_argument("--sig", required=True, help="the raw 64-byte Ed25519 signature (statement.sig)")
        parser.add_argument("--key", help="the public key PEM (GET /api/v1/keys/{key_id}.pem); default: "
                                          "this service's key named by the document's key_id")

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        try:
            data = Path(opts["file"]).read_bytes()
            sig = Path(opts["sig"]).read_bytes()
            keys = public_keys(opts["key"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        problems = verify_signed_document(data, sig, keys)
        if problems:
            raise CommandError("INVALID: " + "; ".join(problems))
        self.stdout.write("OK: signature valid")
