"""The receipt check of the cardholder pages: a receipt (spec/clearing.md §Receipts; card uses:
spec/cards.md §Views) verified with :func:`cardholder.verify.verify_receipt` against the published
key its ``key_id`` names, and against the leaf fields the page expects for the record it shows."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cardholder.verify import ReceiptCheck, verify_receipt
from core.crypto import KeyError_, signing_key


def receipt_check(receipt: dict[str, Any], expected: dict[str, str]) -> ReceiptCheck:
    """Verify ``receipt``: inclusion in the Merkle root, the root in the signed head, the head's
    Ed25519 signature under the key named by ``key_id`` (an unknown key fails the signature step),
    and every ``expected`` leaf field (compared as strings, e.g. ``{"setl_id", "clr_amt"}``)."""
    try:
        public = signing_key(str(receipt.get("key_id", ""))).public
    except KeyError_:
        return ReceiptCheck(ok=False, steps={"signature": False}, reason=_("unknown signing key"))
    return verify_receipt(receipt, public, expected)
