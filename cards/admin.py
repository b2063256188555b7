"""Django admin of the card scheme (spec/cards.md) for clearing-house staff: read-only, like every
rule- or money-bearing model (``core.admin_readonly.ReadOnlyAdmin``: no add, change or delete form
whatever the user's permissions, a superuser included). Cards move only through the services
(``cards.services.status.card_status_move``, imports, acceptances), which validate and audit.

Personal data: a card number is shown only masked as every card answer masks it (``A34****01``,
``cards.services.registry.mask_card_no``); the encrypted columns (card number, card serial, certno,
name), the blind indexes, the birth date, acceptor client secrets and the signed deny-list bytes
are neither listed nor shown on a detail page, and nothing is searchable by them.
"""
from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cards import models as m
from cards.presenters import card_no_of
from cards.services.registry import mask_card_no
from core.admin_readonly import ReadOnlyAdmin


def _masked(card: m.Card | None) -> str:
    """``A34****01`` for ``card`` (decrypted, then masked); ``""`` for none."""
    return mask_card_no(card_no_of(card)) if card is not None else ""


@admin.register(m.Card)
class CardAdmin(ReadOnlyAdmin):
    """The registry: masked number, status, issuer, validity; no certno, name or birth date."""

    list_display = ("id", "masked_card_no", "card_stas", "issuer_admdvs", "issuer_province", "card_gen",
                    "issue_date", "valid_until", "temp_loss_expires_at", "updated_at")
    list_filter = ("card_stas", "issuer_province", "card_gen")
    fields = ("masked_card_no", "card_ref", "card_stas", "issuer_admdvs", "issuer_province", "card_gen",
              "issue_date", "valid_until", "temp_loss_expires_at", "handled_admdvs",
              "application_reference", "created_at", "updated_at")
    readonly_fields = ("masked_card_no",)

    @admin.display(description=_("card number (masked)"))
    def masked_card_no(self, obj: m.Card) -> str:
        return _masked(obj)


@admin.register(m.CardStatusChange)
class CardStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("card", "from_stas", "to_stas", "at", "actor", "role", "actor_admdvs", "reason",
                    "reference", "list_version")
    list_filter = ("to_stas", "role")
    search_fields = ("reference",)


@admin.register(m.CardReplacement)
class CardReplacementAdmin(ReadOnlyAdmin):
    list_display = ("reference", "old_card", "new_card", "reason", "handled_admdvs", "list_version",
                    "created_at")
    search_fields = ("reference",)
    exclude = ("fingerprint",)


@admin.register(m.Acceptor)
class AcceptorAdmin(ReadOnlyAdmin):
    list_display = ("acceptor_code", "name", "kind", "admdvs")
    list_filter = ("kind",)
    search_fields = ("acceptor_code", "name", "admdvs")


@admin.register(m.AcceptorClient)
class AcceptorClientAdmin(ReadOnlyAdmin):
    """Clients come from ``manage.py create_client --acceptor``; the secret is never shown."""

    list_display = ("client_id", "acceptor", "created_at", "revoked_at")
    search_fields = ("client_id", "acceptor__acceptor_code")
    fields = ("client_id", "acceptor", "created_at", "revoked_at")
    list_select_related = ("acceptor",)


@admin.register(m.CardBenefit)
class CardBenefitAdmin(ReadOnlyAdmin):
    list_display = ("admdvs", "svc_type", "min_age", "max_age", "benefit_code", "pay_prop", "begndate",
                    "enddate")
    list_filter = ("svc_type", "admdvs")


@admin.register(m.CardSettlementAgent)
class CardSettlementAgentAdmin(ReadOnlyAdmin):
    list_display = ("admdvs", "name")


@admin.register(m.DenyListVersion)
class DenyListVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "issued_at", "cause", "heartbeat_hour")
    list_filter = ("cause",)


@admin.register(m.DenyListChange)
class DenyListChangeAdmin(ReadOnlyAdmin):
    """Entries name a card by ``card_ref`` (SHA-256 of its serial), as the published lists do."""

    list_display = ("version", "card_ref", "op", "reason", "since")
    list_filter = ("op", "reason")
    search_fields = ("card_ref",)


@admin.register(m.DenyListDocument)
class DenyListDocumentAdmin(ReadOnlyAdmin):
    list_display = ("version", "base_version", "key_id")
    exclude = ("canonical", "signature")


@admin.register(m.Acceptance)
class AcceptanceAdmin(ReadOnlyAdmin):
    """Acceptance records and reversals with the card number masked."""

    list_display = ("acpt_id", "kind", "acceptor", "masked_card_no", "svc_type", "used_at", "mode",
                    "list_amt", "amt", "pay_src", "payer", "payee", "clr_date", "cleared")
    list_filter = ("kind", "cleared", "payer", "payee", "svc_type")
    search_fields = ("acpt_id", "acpt_serial", "acceptor__acceptor_code")
    list_select_related = ("acceptor", "card")
    exclude = ("fingerprint",)

    @admin.display(description=_("card number (masked)"))
    def masked_card_no(self, obj: m.Acceptance) -> str:
        return _masked(obj.card)


@admin.register(m.AcceptanceRefusal)
class AcceptanceRefusalAdmin(ReadOnlyAdmin):
    list_display = ("acceptor", "received_date", "issuer_province", "code", "at")
    list_filter = ("code",)
    list_select_related = ("acceptor",)


@admin.register(m.AcceptanceDaySequence)
class AcceptanceDaySequenceAdmin(ReadOnlyAdmin):
    list_display = ("day", "last")
