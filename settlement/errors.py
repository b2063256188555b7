"""Settlement refusals that are built in more than one place (codes: spec/hospital-api.md §Errors)."""
from __future__ import annotations

from core.errors import DomainError, Invalid, field_error


def item_failed() -> DomainError:
    """``422 item_failed``: one batch item failed unexpectedly (logged by the caller); nothing was
    recorded for it and the other items are unaffected."""
    return DomainError(
        "item_failed",
        "This item could not be settled; nothing was recorded for it. Retry it alone.",
        status=422,
    )


def unstorable_value() -> Invalid:
    """``400 invalid`` for a value the database cannot store (e.g. a numeric overflow)."""
    return Invalid([field_error("body", "unstorable_value", "A value of this request cannot be stored.")])
