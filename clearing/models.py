"""Clearing models: cycles and the items they carry.

The rest of the clearing domain (positions, prefunds, ledger, statements, alerts, disputes) is
added by the clearing services; see docs/architecture.md.
"""
from __future__ import annotations

from django.db import models


class Cycle(models.Model):
    """One business day's clearing cycle (spec/clearing.md §Cycles): ``open`` → ``cut`` → ``closed``.

    Only :func:`clearing.services.cycles.cycle_transition` assigns ``status``.
    ``closed_at`` and ``key_id`` are fixed when the close begins and kept, so a repeated close
    signs identical bytes. Figures are filled by the close.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CUT = "cut"
        CLOSED = "closed"

    clr_date = models.DateField(unique=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    cut_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    key_id = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["clr_date"]

    def __str__(self) -> str:
        return f"{self.clr_date} {self.status}"


class CycleTransition(models.Model):
    """Audit of each status move: who and when."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=6)
    to_status = models.CharField(max_length=6)
    actor = models.CharField(max_length=100)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["cycle", "to_status"], name="one_transition_per_state")]


class ClearingItem(models.Model):
    """An obligation of ``payer`` province to ``payee`` province of ``clr_amt`` yuan, carried by the
    cycle of ``clr_date``. ``kind`` is ``settlement``, ``reversal`` or ``adjustment``; intra-province
    items have ``payer == payee``. ``leaf_hash`` is the RFC 9162 leaf hash (32 bytes) of the leaf
    document (``clearing.leaf``). Items are never updated once written.
    """

    class Kind(models.TextChoices):
        SETTLEMENT = "settlement"
        REVERSAL = "reversal"
        ADJUSTMENT = "adjustment"

    setl_id = models.CharField(max_length=30, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payer = models.CharField(max_length=6)
    payee = models.CharField(max_length=6)
    clr_amt = models.DecimalField(max_digits=16, decimal_places=2)
    fixmedins_code = models.CharField(max_length=30)
    cycle = models.ForeignKey(Cycle, to_field="clr_date", db_column="clr_date", on_delete=models.PROTECT,
                              related_name="items")
    leaf_hash = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["cycle", "setl_id"])]

    def __str__(self) -> str:
        return self.setl_id

    @property
    def clr_date(self):  # noqa: ANN201 - a date
        return self.cycle_id
