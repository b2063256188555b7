"""What the verifier commands share (``verify_statement``, ``verify_receipt``): reading the files
with a plain-language error, the **trust anchor** (which public keys a signature is checked against,
stated in the output), and telling a receipt from a head or a statement.

Trust anchor: ``--key KEY.pem`` is the independent check: the key a bureau or cardholder fetched
from ``GET /api/v1/keys/{key_id}.pem`` (or got out of band) and trusts. Without ``--key`` the
command uses this installation's own configured signing keys, which proves only that *this*
service signed the document; the output says so.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

KEY_HELP = ("public key (PEM) to trust, e.g. the file of GET /api/v1/keys/{key_id}.pem; without it the "
            "signature is checked against this installation's own configured signing keys, which is not "
            "an independent check (the output says which anchor was used)")
RECEIPT_FIELDS = ("leaf", "leaf_index", "tree_size", "audit_path", "merkle_root", "head", "head_signature")


def read_bytes(path: str, what: str) -> bytes:
    """The file's bytes, or ``CommandError`` naming the file and the reason in plain words."""
    p = Path(path)
    if not p.exists():
        raise CommandError(f"{what} {path}: no such file")
    if p.is_dir():
        raise CommandError(f"{what} {path}: is a directory, not a file")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise CommandError(f"{what} {path}: cannot be read ({exc.strerror or 'I/O error'})") from None


def trust_anchor(key_path: str | None) -> tuple[list[Any], str]:
    """(public keys, a sentence naming them) for ``--key`` or, without it, the configured keys."""
    from clearing.verify import load_public_key

    if key_path:
        pem = read_bytes(key_path, "key")
        try:
            key = load_public_key(pem)
        except ValueError:
            raise CommandError(f"key {key_path}: not an Ed25519 public key in PEM form "
                               "(expected the file of GET /api/v1/keys/{key_id}.pem)") from None
        return [key], f"trusted key: {key_path} (given with --key)"
    from core.crypto import signing_keys

    keys = signing_keys()
    ids = ", ".join(k.key_id for k in keys)
    return [k.public for k in keys], (f"trusted keys: this installation's own signing keys ({ids}); "
                                      "not an independent check — pass --key with the published key")


def json_object(data: bytes, path: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CommandError(f"{path}: not a JSON file") from None
    if not isinstance(obj, dict):
        raise CommandError(f"{path}: not a JSON object")
    return obj


def kind_of(doc: dict[str, Any]) -> str:
    """``receipt``, ``head``, ``statement`` or ``unknown`` from the document's fields."""
    if "leaf" in doc and "audit_path" in doc:
        return "receipt"
    if "merkle_root" in doc and "net_positions" in doc:
        return "head"
    if "admdvs" in doc and "bilateral" in doc:
        return "statement"
    return "unknown"
