"""Password-change hook (issue 10 §1): a password validator whose ``password_changed`` runs on every
path that sets a password — the admin's user and own-password forms, ``manage.py changepassword``,
``set_password`` + ``save`` anywhere (Django's ``AbstractBaseUser.save`` calls it) — and revokes
every bearer token of that user, audited. Whoever knew the old password (or a token obtained with
it) is out."""
from __future__ import annotations

from typing import Any


class RevokeTokensOnPasswordChange:
    """Validates nothing; after a password is set, revokes the user's tokens (``accounts.services.
    access.user_tokens_revoke``)."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        from accounts.services.access import user_tokens_revoke

        if user is not None and user.pk is not None:
            user_tokens_revoke(user=user, reason="password_set")

    def get_help_text(self) -> str:
        return "Setting a password signs out every token of the user."
