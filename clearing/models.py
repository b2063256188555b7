"""Clearing models (spec/clearing.md): cycles and their items, the close's figures, signed heads
and statements, prefund accounts and postings, the double-entry ledger, alerts and disputes.

Everything a close writes is guarded by a unique constraint so a repeated or concurrent close can
never write it twice (guarantee 2); rows of a closed cycle are never updated.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class _MoneyArgs(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _MoneyArgs = {"max_digits": 16, "decimal_places": 2}  # yuan, 2 places (typed for mypy's **)


class Scheme(models.TextChoices):
    """The clearing schemes (spec/cards.md §The card scheme's clearing): ``medical`` (everything of
    spec/clearing.md) and ``card`` (social-security card acceptances). Cleared apart, never netted
    together: cycles, items, heads, statements, settlement accounts and journal entries each
    belong to one scheme."""

    MEDICAL = "medical"
    CARD = "card"


class _SchemeFieldArgs(TypedDict):
    max_length: int
    choices: list[tuple[str, str]]
    default: str
    db_default: str


SCHEME_FIELD: _SchemeFieldArgs = {  # typed for mypy's **
    "max_length": 8,
    "choices": Scheme.choices,
    "default": Scheme.MEDICAL,
    "db_default": Scheme.MEDICAL,
}


class Cycle(models.Model):
    """One business day's clearing cycle of one scheme (spec/clearing.md §Cycles, keyed by
    (``scheme``, ``clr_date``) per spec/cards.md): ``open`` → ``cut`` → ``closed``.

    Only :func:`clearing.services.cycles.cycle_transition` assigns ``status``.
    ``closed_at`` and ``key_id`` are fixed when the close begins and kept, so a repeated close
    signs identical bytes. Figures are filled by the close.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CUT = "cut"
        CLOSED = "closed"

    scheme = models.CharField(**SCHEME_FIELD, verbose_name=_("clearing scheme"))
    clr_date = models.DateField(verbose_name=_("clearing date"))
    status = models.CharField(
        max_length=6, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    cut_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cut at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    key_id = models.CharField(max_length=30, blank=True, verbose_name=_("key ID"))

    class Meta:
        verbose_name = _("clearing cycle")
        verbose_name_plural = _("clearing cycles")
        ordering = ["scheme", "clr_date"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "clr_date"], name="one_cycle_per_scheme_day")
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.clr_date} {self.status}"


class CycleTransition(models.Model):
    """Audit of each status move: who and when."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="transitions", verbose_name=_("cycle")
    )
    from_status = models.CharField(max_length=6, verbose_name=_("from status"))
    to_status = models.CharField(max_length=6, verbose_name=_("to status"))
    actor = models.CharField(max_length=100, verbose_name=_("actor"))
    at = models.DateTimeField(verbose_name=_("at"))

    class Meta:
        verbose_name = _("cycle transition")
        verbose_name_plural = _("cycle transitions")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "to_status"], name="one_transition_per_state")
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.from_status}→{self.to_status}"


class ClearingItem(models.Model):
    """An obligation of ``payer`` province to ``payee`` province of ``clr_amt`` yuan, carried by the
    cycle of ``clr_date``. ``kind`` is ``settlement``, ``reversal`` or ``adjustment``; intra-province
    items have ``payer == payee``. ``leaf_hash`` is the RFC 9162 leaf hash (32 bytes) of the leaf
    document (``clearing.leaf``; the card scheme's leaf names ``acceptor_code`` and ``acpt_id``,
    kept here in ``fixmedins_code`` and ``setl_id``). Items are never updated once written.

    ``cycle`` is the composite relation (``scheme``, ``clr_date``) → :class:`Cycle`; on
    PostgreSQL a composite foreign key enforces it (migration 0005).
    """

    class Kind(models.TextChoices):
        SETTLEMENT = "settlement"
        REVERSAL = "reversal"
        ADJUSTMENT = "adjustment"
        ACCEPTANCE = "acceptance"

    setl_id = models.CharField(max_length=30, unique=True, verbose_name=_("settlement ID"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    payer = models.CharField(max_length=6, verbose_name=_("payer province"))
    payee = models.CharField(max_length=6, verbose_name=_("payee province"))
    clr_amt = models.DecimalField(**MONEY, verbose_name=_("clearing amount"))
    fixmedins_code = models.CharField(max_length=30, verbose_name=_("institution code"))
    scheme = models.CharField(**SCHEME_FIELD, verbose_name=_("clearing scheme"))
    clr_date = models.DateField(db_column="clr_date", verbose_name=_("clearing date"))
    cycle = models.ForeignObject(
        Cycle,
        from_fields=["scheme", "clr_date"],
        to_fields=["scheme", "clr_date"],
        on_delete=models.PROTECT,
        related_name="items",
    )
    leaf_hash = models.BinaryField(max_length=32, verbose_name=_("leaf hash"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("clearing item")
        verbose_name_plural = _("clearing items")
        indexes = [
            models.Index(fields=["clr_date", "scheme", "setl_id"], name="clearing_item_day_scheme_setl")
        ]
        # On PostgreSQL the items are partitioned by month of clr_date (clearing.partitions): a
        # unique constraint there must contain clr_date, so this one, not setl_id alone, is the
        # ON CONFLICT target on both engines.
        constraints = [
            models.UniqueConstraint(fields=["setl_id", "clr_date"], name="clearing_item_setl_day")
        ]

    def __str__(self) -> str:
        return self.setl_id


class ItemReversal(models.Model):
    """The settlement item ``item`` was reversed by the item ``reversal_setl_id`` (at most once).
    Written by :func:`clearing.services.items.clearing_item_reversal_lock` under the item's row
    lock, which the dispute services take too: a dispute that may still move money and a reversal
    of the same item never both succeed."""

    item = models.OneToOneField(
        ClearingItem, on_delete=models.PROTECT, related_name="reversal", verbose_name=_("clearing item")
    )
    reversal_setl_id = models.CharField(max_length=30, unique=True, verbose_name=_("reversal settlement ID"))
    at = models.DateTimeField(verbose_name=_("at"))

    class Meta:
        verbose_name = _("item reversal")
        verbose_name_plural = _("item reversals")

    def __str__(self) -> str:
        return f"{self.item_id} reversed by {self.reversal_setl_id}"


class CycleHead(models.Model):
    """The signed head of a closed cycle: its RFC 8785 canonical bytes, the raw 64-byte Ed25519
    signature and the signing ``key_id`` (spec/clearing.md §Signed cycle head). One per cycle."""

    cycle = models.OneToOneField(
        Cycle, on_delete=models.PROTECT, related_name="head", verbose_name=_("cycle")
    )
    canonical = models.BinaryField(verbose_name=_("canonical bytes"))
    sha256 = models.CharField(max_length=64, unique=True, verbose_name=_("SHA-256"))
    signature = models.BinaryField(verbose_name=_("signature"))
    key_id = models.CharField(max_length=30, verbose_name=_("key ID"))
    item_cnt = models.IntegerField(verbose_name=_("items"))
    tree_size = models.IntegerField(verbose_name=_("tree size"))
    gross = models.DecimalField(**MONEY, verbose_name=_("gross"))
    net_funding = models.DecimalField(**MONEY, verbose_name=_("net funding"))
    netting_efficiency = models.DecimalField(
        max_digits=6, decimal_places=4, verbose_name=_("netting efficiency")
    )
    merkle_root = models.CharField(max_length=64, verbose_name=_("Merkle root"))
    # Proof index (not signed): the MTH of each aligned block of ``block_size`` leaves, 32 bytes
    # each, concatenated in order (the last block may be partial); see clearing.merkle.range_hash.
    # Null for cycles closed before it existed: their proofs stream all leaves.
    block_size = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("block size"))
    block_hashes = models.BinaryField(null=True, blank=True, verbose_name=_("block hashes"))

    class Meta:
        verbose_name = _("cycle head")
        verbose_name_plural = _("cycle heads")

    def __str__(self) -> str:
        return f"head {self.cycle_id} {self.sha256[:12]}"


class BilateralPosition(models.Model):
    """Σ signed ``clr_amt`` and count of a closed cycle's cross-province items per (payer, payee)."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="bilateral_positions", verbose_name=_("cycle")
    )
    payer = models.CharField(max_length=6, verbose_name=_("payer province"))
    payee = models.CharField(max_length=6, verbose_name=_("payee province"))
    cnt = models.IntegerField(verbose_name=_("count"))
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))

    class Meta:
        verbose_name = _("bilateral position")
        verbose_name_plural = _("bilateral positions")
        ordering = ["payer", "payee"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "payer", "payee"], name="one_bilateral_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.payer}→{self.payee} {self.amount}"


class NetPosition(models.Model):
    """Per province of a closed cycle: ``receivable`` − ``payable`` = ``net`` (cross-province),
    ``item_cnt`` (cross-province items as payer or payee), intra-province count and amount."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="net_positions", verbose_name=_("cycle")
    )
    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    receivable = models.DecimalField(**MONEY, verbose_name=_("receivable"))
    payable = models.DecimalField(**MONEY, verbose_name=_("payable"))
    net = models.DecimalField(**MONEY, verbose_name=_("net"))
    item_cnt = models.IntegerField(verbose_name=_("items"))
    intra_cnt = models.IntegerField(default=0, verbose_name=_("intra-province items"))
    intra_amount = models.DecimalField(default=0, **MONEY, verbose_name=_("intra-province amount"))

    class Meta:
        verbose_name = _("net position")
        verbose_name_plural = _("net positions")
        ordering = ["admdvs"]
        constraints = [models.UniqueConstraint(fields=["cycle", "admdvs"], name="one_net_per_province")]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.admdvs} {self.net}"


class Remittance(models.Model):
    """What a payee bureau passes on to an institution for a closed cycle; ``intra`` lines are the
    intra-province items, listed apart (spec/clearing.md §Hospital remittance)."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="remittances", verbose_name=_("cycle")
    )
    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    fixmedins_code = models.CharField(max_length=30, verbose_name=_("institution code"))
    intra = models.BooleanField(verbose_name=_("intra-province"))
    cnt = models.IntegerField(verbose_name=_("count"))
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))

    class Meta:
        verbose_name = _("remittance")
        verbose_name_plural = _("remittances")
        ordering = ["admdvs", "intra", "fixmedins_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "fixmedins_code", "intra"], name="one_remittance_per_institution"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.fixmedins_code} {self.amount}"


class Statement(models.Model):
    """A province's signed statement of a closed cycle (canonical bytes, raw signature)."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="statements", verbose_name=_("cycle")
    )
    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    canonical = models.BinaryField(verbose_name=_("canonical bytes"))
    signature = models.BinaryField(verbose_name=_("signature"))
    key_id = models.CharField(max_length=30, verbose_name=_("key ID"))

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["cycle", "admdvs"]
        constraints = [models.UniqueConstraint(fields=["cycle", "admdvs"], name="one_statement_per_province")]

    def __str__(self) -> str:
        return f"statement {self.cycle_id} {self.admdvs}"


class StatementAck(models.Model):
    """The bureau's acknowledgement (确认) of its statement: recorded once, with user and time."""

    statement = models.OneToOneField(
        Statement, on_delete=models.PROTECT, related_name="ack", verbose_name=_("statement")
    )
    acked_by = models.CharField(max_length=150, verbose_name=_("acknowledged by"))
    acked_at = models.DateTimeField(verbose_name=_("acknowledged at"))

    class Meta:
        verbose_name = _("statement acknowledgement")
        verbose_name_plural = _("statement acknowledgements")

    def __str__(self) -> str:
        return f"ack {self.statement_id} by {self.acked_by}"


class PrefundAccount(models.Model):
    """A province's prefund (预付金) account of the medical scheme, or its card settlement account
    of the card scheme: ``baseline`` set by the clearing house, ``balance`` moved only by postings
    (spec/clearing.md §Prefunding, spec/cards.md §The card scheme's clearing)."""

    scheme = models.CharField(**SCHEME_FIELD, verbose_name=_("clearing scheme"))
    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    baseline = models.DecimalField(**MONEY, verbose_name=_("baseline"))
    balance = models.DecimalField(**MONEY, verbose_name=_("balance"))

    class Meta:
        verbose_name = _("prefund account")
        verbose_name_plural = _("prefund accounts")
        ordering = ["scheme", "admdvs"]
        constraints = [models.UniqueConstraint(fields=["scheme", "admdvs"], name="one_account_per_scheme")]

    def __str__(self) -> str:
        return f"{self.admdvs} {self.balance}"


class PrefundPosting(models.Model):
    """One movement of a prefund account (never edited): a deposit, a withdrawal or a cycle's net.
    Idempotent on ``(account, reference)``; ``amount`` signed (withdrawals negative)."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        NET = "net"

    account = models.ForeignKey(
        PrefundAccount, on_delete=models.PROTECT, related_name="postings", verbose_name=_("account")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    value_date = models.DateField(verbose_name=_("value date"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    balance_after = models.DecimalField(**MONEY, verbose_name=_("balance after"))
    cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.PROTECT, related_name="postings",
        verbose_name=_("cycle"),
    )
    created_by = models.CharField(max_length=150, verbose_name=_("created by"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("prefund posting")
        verbose_name_plural = _("prefund postings")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "reference"], name="one_posting_per_reference")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} {self.amount}"


class JournalEntry(models.Model):
    """A double-entry journal entry: ≥ 2 legs summing to exactly 0.00 (a deferred constraint
    trigger on PostgreSQL, migration 0002). ``reference`` is unique: one entry per close/posting."""

    reference = models.CharField(max_length=80, unique=True, verbose_name=_("reference"))
    scheme = models.CharField(**SCHEME_FIELD, verbose_name=_("clearing scheme"))
    description = models.CharField(max_length=200, verbose_name=_("description"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["id"]
        # the target of the legs' composite (entry, scheme) foreign key (migration 0005)
        constraints = [models.UniqueConstraint(fields=["id", "scheme"], name="journal_entry_id_scheme")]

    def __str__(self) -> str:
        return self.reference


class JournalLeg(models.Model):
    """One leg; ``amount`` positive = debit. Accounts: ``prefund:<admdvs>`` (the clearing house's
    liability to a province) and ``bank`` (the clearing house's settlement bank account) of the
    medical scheme; ``card:<admdvs>`` and ``card:bank`` of the card scheme.

    No entry mixes schemes (spec/cards.md): a leg's ``scheme`` matches its account's prefix (a
    check constraint) and its entry's ``scheme`` (a composite foreign key on PostgreSQL, a trigger
    on SQLite; migration 0005)."""

    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="legs", verbose_name=_("journal entry")
    )
    scheme = models.CharField(**SCHEME_FIELD, verbose_name=_("clearing scheme"))
    account = models.CharField(max_length=30, verbose_name=_("account"))
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))

    class Meta:
        verbose_name = _("journal leg")
        verbose_name_plural = _("journal legs")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheme="card", account__startswith="card:")
                | (Q(scheme="medical") & ~Q(account__startswith="card:")),
                name="journal_leg_account_of_scheme",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"


class Alert(models.Model):
    """``low_prefund`` or ``funding_call`` raised by a close for a province (one of each kind per
    province and cycle). ``amount`` is the balance (low_prefund) or the shortfall (funding_call)."""

    class Kind(models.TextChoices):
        LOW_PREFUND = "low_prefund"
        FUNDING_CALL = "funding_call"

    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("cycle"))
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    threshold = models.DecimalField(null=True, blank=True, **MONEY, verbose_name=_("threshold"))
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "admdvs", "cycle"], name="one_alert_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.admdvs} {self.amount}"


class Dispute(models.Model):
    """A payer bureau's dispute of a settlement item (spec/clearing.md §Disputes). One per item,
    ever (unique ``setl_id``). Only :func:`clearing.services.disputes.dispute_transition` assigns
    ``status``: open → upheld/rejected by the payee; open or payee-rejected → escalated (once) →
    upheld/rejected by clearing staff."""

    class Status(models.TextChoices):
        OPEN = "open"
        ESCALATED = "escalated"
        UPHELD = "upheld"
        REJECTED = "rejected"

    class Reason(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible"
        NOT_COVERED = "not_covered"
        DUPLICATE = "duplicate"
        AMOUNT_ERROR = "amount_error"
        OTHER = "other"
        CARD_DENIED_MISSED = "card_denied_missed"  # card scheme only (spec/cards.md §Disputes)

    setl_id = models.CharField(max_length=30, unique=True, verbose_name=_("settlement ID"))
    item = models.OneToOneField(
        ClearingItem, on_delete=models.PROTECT, related_name="dispute", verbose_name=_("clearing item")
    )
    payer = models.CharField(max_length=6, verbose_name=_("payer province"))
    payee = models.CharField(max_length=6, verbose_name=_("payee province"))
    fixmedins_code = models.CharField(max_length=30, verbose_name=_("institution code"))
    reason_code = models.CharField(max_length=20, choices=Reason.choices, verbose_name=_("reason code"))
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    opened_by = models.CharField(max_length=150, verbose_name=_("opened by"))
    opened_at = models.DateTimeField(verbose_name=_("opened at"))
    escalated_by = models.CharField(max_length=150, blank=True, verbose_name=_("escalated by"))
    escalated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("escalated at"))
    resolved_by = models.CharField(max_length=150, blank=True, verbose_name=_("resolved by"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_amount = models.DecimalField(null=True, blank=True, **MONEY, verbose_name=_("resolved amount"))
    resolution_note = models.TextField(blank=True, verbose_name=_("resolution note"))
    adjustment_setl_id = models.CharField(
        max_length=30, blank=True, verbose_name=_("adjustment settlement ID")
    )

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["opened_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive")]

    def __str__(self) -> str:
        return f"dispute {self.setl_id} {self.status}"
