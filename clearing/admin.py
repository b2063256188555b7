"""Django admin for clearing-house staff (spec/bureau-api.md §Operations): cycles, items,
figures, statements, prefunds, ledger, alerts and disputes — read-only where the data is final
(everything written by a close, items, postings and the ledger). Writes go through the services
(the API), never through admin forms, so nothing here can edit money."""

from __future__ import annotations

from django.contrib import admin

from clearing import models as m
from core.admin_readonly import ReadOnlyAdmin


@admin.register(m.Cycle)
class CycleAdmin(ReadOnlyAdmin):
    list_display = ("scheme", "clr_date", "status", "cut_at", "closed_at", "key_id")
    list_filter = ("scheme", "status")


@admin.register(m.CycleTransition)
class CycleTransitionAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "from_status", "to_status", "actor", "at")


@admin.register(m.ClearingItem)
class ClearingItemAdmin(ReadOnlyAdmin):
    list_display = ("setl_id", "kind", "payer", "payee", "clr_amt", "fixmedins_code", "scheme", "clr_date")
    list_filter = ("scheme", "kind", "payer", "payee")
    search_fields = ("setl_id", "fixmedins_code")
    exclude = ("leaf_hash",)


@admin.register(m.CycleHead)
class CycleHeadAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "item_cnt", "gross", "net_funding", "netting_efficiency", "key_id", "sha256")
    exclude = ("canonical", "signature")


@admin.register(m.BilateralPosition)
class BilateralAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "payer", "payee", "cnt", "amount")


@admin.register(m.NetPosition)
class NetAdmin(ReadOnlyAdmin):
    list_display = (
        "cycle",
        "admdvs",
        "receivable",
        "payable",
        "net",
        "item_cnt",
        "intra_cnt",
        "intra_amount",
    )


@admin.register(m.Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "admdvs", "fixmedins_code", "intra", "cnt", "amount")


@admin.register(m.Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "admdvs", "key_id")
    exclude = ("canonical", "signature")


@admin.register(m.StatementAck)
class StatementAckAdmin(ReadOnlyAdmin):
    list_display = ("statement", "acked_by", "acked_at")


@admin.register(m.PrefundAccount)
class PrefundAccountAdmin(ReadOnlyAdmin):
    list_display = ("scheme", "admdvs", "baseline", "balance")


@admin.register(m.PrefundPosting)
class PrefundPostingAdmin(ReadOnlyAdmin):
    list_display = ("account", "kind", "amount", "value_date", "reference", "balance_after", "created_by")
    list_filter = ("kind",)


@admin.register(m.JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("reference", "scheme", "description", "created_at")


@admin.register(m.JournalLeg)
class JournalLegAdmin(ReadOnlyAdmin):
    list_display = ("entry", "scheme", "account", "amount")


@admin.register(m.Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("kind", "admdvs", "cycle", "amount", "due_at")
    list_filter = ("kind",)


@admin.register(m.Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    """Disputes move only through the API (resolve/escalate), which records the adjustment item."""

    list_display = ("setl_id", "payer", "payee", "reason_code", "amount", "status", "opened_at")
    list_filter = ("status", "reason_code")
