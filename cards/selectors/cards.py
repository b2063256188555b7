"""Reads of the card registry."""

from __future__ import annotations

from cards.models import Card
from cards.services.registry import card_no_index
from core.errors import NotFound


def card_by_number(card_no: str) -> Card:
    """The card ``card_no`` (upper-cased) or 404."""
    card = Card.objects.filter(card_no_bidx=card_no_index(card_no.upper())).first()
    if card is None:
        raise NotFound("No such card.")
    return card


def acceptor_client_for_signature(client_id: str):  # noqa: ANN201 - AcceptorClient | None
    """The acceptor client ``client_id`` with its acceptor (``settings.AUTH_LOADERS``)."""
    from cards.models import AcceptorClient

    return AcceptorClient.objects.select_related("acceptor").filter(client_id=client_id).first()
