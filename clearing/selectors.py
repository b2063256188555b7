"""Reads of clearing data used by other apps (interfaces; the clearing work fills them in)."""
from __future__ import annotations

from typing import Any


def settlement_blocking_dispute_exists(settlement_setl_id: str) -> bool:
    """True when the settlement has an open, escalated or upheld dispute (then a reversal answers
    ``409 disputed``). Call it while holding the settlement row lock."""
    return False


def item_inclusion_proof(setl_id: str) -> dict[str, Any]:
    """RFC 9162 inclusion proof of a closed cycle's item (spec/clearing.md §Receipts):
    ``{"leaf", "leaf_index", "tree_size", "audit_path", "merkle_root", "head", "head_signature",
    "key_id"}``. Raises ``409 not_yet_cleared`` before the close, ``404`` for unknown ids."""
    raise NotImplementedError
