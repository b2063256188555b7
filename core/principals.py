"""Who is calling: one :class:`Principal` per authenticated request (spec/security.md §Scopes)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Principal:
    """The authenticated caller.

    ``role`` is ``institution``, ``bureau``, ``clearing_staff``, ``cardholder``, or of the card
    half (spec/cards.md) ``acceptor``, ``card_bureau``, ``card_desk``; ``actor`` the id
    written to the audit log (client id, username, ``psn_no`` or, for a card-only holder, ``holder-<id>``);
    ``admdvs`` the bureau's province
    (``None`` for clearing staff, who see every province).
    """

    role: str
    actor: str
    institution: Any = None
    client: Any = None
    user: Any = None
    person: Any = None
    admdvs: str | None = None
    token: Any = None
    acceptor: Any = None  # role "acceptor" (spec/cards.md): the acceptor of the signing client
    holder: Any = None  # role "cardholder": the cardholder login (``person`` is None for a card-only holder)

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> str:  # used by DRF throttles as the ident
        return f"{self.role}:{self.actor}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in ("bureau", "clearing_staff", "card_bureau", "card_desk")

    def __str__(self) -> str:
        return self.pk


def request_principal(request: Any) -> Principal:
    """The authenticated caller of a DRF request. Every view declares its roles
    (:func:`core.permissions.roles`), so inside a view ``request.user`` is a :class:`Principal`."""
    user = request.user
    if not isinstance(user, Principal):  # pragma: no cover - the permission classes refuse first
        raise TypeError("the request has no authenticated principal")
    return user
