"""Social-security cards (spec/cards.md): the regional card registry with its status history,
acceptors and their API clients, same-city benefit rules, settlement agents, deny-list versions
and their changes, acceptance records.

Personal data (``card_no``, ``card_sn``, ``certno``, ``psn_name``) is stored encrypted with a
blind index on ``card_no`` and ``certno`` (spec/security.md); ``card_ref`` (SHA-256 of the
upper-case ``card_sn``, how deny lists name a card) is stored in clear, as the spec says.
Only :func:`cards.services.status.card_status_move` assigns ``card_stas``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clearing.models import MONEY  # yuan, 2 places (typed for mypy's **)


class CardStatus(models.TextChoices):
    APPLIED = "applied"  # 已申领
    ISSUED = "issued"  # 已制卡
    ACTIVE = "active"  # 正常
    TEMP_LOST = "temp_lost"  # 临时挂失
    LOST = "lost"  # 正式挂失
    CANCELLED = "cancelled"  # 注销


# statuses that put a card (with a card_sn) on the deny list; the entry's reason is the status
LISTED = (CardStatus.TEMP_LOST, CardStatus.LOST, CardStatus.CANCELLED)


class Card(models.Model):
    """One physical card (spec/cards.md §Card registry). ``issuer_province`` is the payer in the
    card scheme; ``birth_date`` (from the ``certno``, as ``accounts.Person.brdy``) gives the age
    for same-city benefits without decrypting. At most one card per (``certno``, issuer province)
    that is not ``cancelled`` (a partial unique index)."""

    card_no_enc = models.TextField(verbose_name=_("card number (encrypted)"))
    card_no_bidx = models.CharField(max_length=64, unique=True, verbose_name=_("card number blind index"))
    card_sn_enc = models.TextField(  # noqa: DJ001 - NULL = not made yet
        null=True, blank=True, verbose_name=_("card serial (encrypted)"),
    )
    card_ref = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, unique=True, verbose_name=_("card reference"),
    )
    certno_enc = models.TextField(verbose_name=_("certificate number (encrypted)"))
    certno_bidx = models.CharField(
        max_length=64, db_index=True, verbose_name=_("certificate number blind index"),
    )
    psn_name_enc = models.TextField(verbose_name=_("name (encrypted)"))
    birth_date = models.DateField(verbose_name=_("birth date"))
    issuer_admdvs = models.CharField(max_length=6, verbose_name=_("issuer region"))
    issuer_province = models.CharField(max_length=6, db_index=True, verbose_name=_("issuer province"))
    card_gen = models.CharField(max_length=1, default="3", verbose_name=_("card generation"))
    issue_date = models.DateField(null=True, blank=True, verbose_name=_("issue date"))
    valid_until = models.DateField(null=True, blank=True, verbose_name=_("valid until"))
    card_stas = models.CharField(max_length=10, choices=CardStatus.choices, verbose_name=_("card status"))
    temp_loss_expires_at = models.DateTimeField(
        null=True, blank=True, db_index=True, verbose_name=_("temporary loss expires at"),
    )
    handled_admdvs = models.CharField(max_length=6, blank=True, verbose_name=_("handling region"))
    application_reference = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, unique=True, verbose_name=_("application reference"),
    )
    content_hash = models.CharField(max_length=64, blank=True, verbose_name=_("content hash"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certno_bidx", "issuer_province"],
                condition=~Q(card_stas="cancelled"),
                name="one_live_card_per_province",
            ),
            models.CheckConstraint(condition=Q(card_gen__in=["2", "3"]), name="card_gen_2_or_3"),
        ]

    def __str__(self) -> str:
        return f"card {self.pk} {self.card_stas}"


class CardStatusChange(models.Model):
    """One move of a card's status (spec/cards.md §Card registry: from, to, who, role, ``admdvs``
    of the actor, reason, reference, time) and the deny-list version issued with it (if any).
    A lapse of a temporary loss is dated ``temp_loss_expires_at``. Never updated."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="history", verbose_name=_("card"))
    from_stas = models.CharField(max_length=10, blank=True, verbose_name=_("from status"))
    to_stas = models.CharField(max_length=10, verbose_name=_("to status"))
    at = models.DateTimeField(verbose_name=_("at"))
    actor = models.CharField(max_length=150, verbose_name=_("actor"))
    role = models.CharField(max_length=20, verbose_name=_("role"))
    actor_admdvs = models.CharField(max_length=6, blank=True, verbose_name=_("actor's region"))
    reason = models.CharField(max_length=40, blank=True, verbose_name=_("reason"))
    reference = models.CharField(max_length=64, blank=True, verbose_name=_("reference"))
    list_version = models.BigIntegerField(null=True, blank=True, verbose_name=_("deny-list version"))

    class Meta:
        verbose_name = _("card status change")
        verbose_name_plural = _("card status changes")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["card", "at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "reference", "to_stas"],
                condition=~Q(reference=""),
                name="one_move_per_card_reference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.card_id} {self.from_stas}→{self.to_stas}"


class CardReplacement(models.Model):
    """A replacement (补换): the old card cancelled, the new one created ``active``, in one
    transaction; idempotent on ``reference``."""

    reference = models.CharField(max_length=64, unique=True, verbose_name=_("reference"))
    old_card = models.OneToOneField(
        Card, on_delete=models.PROTECT, related_name="replaced_by", verbose_name=_("old card"),
    )
    new_card = models.OneToOneField(
        Card, on_delete=models.PROTECT, related_name="replaces", verbose_name=_("new card"),
    )
    reason = models.CharField(max_length=20, verbose_name=_("reason"))
    handled_admdvs = models.CharField(max_length=6, verbose_name=_("handling region"))
    list_version = models.BigIntegerField(verbose_name=_("deny-list version"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("card replacement")
        verbose_name_plural = _("card replacements")

    def __str__(self) -> str:
        return f"replacement {self.reference}"


class Acceptor(models.Model):
    """用卡受理机构 (``acceptor_code``): transit, scenic, library or museum in ``admdvs``."""

    class Kind(models.TextChoices):
        TRANSIT = "transit"
        SCENIC = "scenic"
        LIBRARY = "library"
        MUSEUM = "museum"

    acceptor_code = models.CharField(max_length=30, unique=True, verbose_name=_("acceptor code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))

    class Meta:
        verbose_name = _("acceptor")
        verbose_name_plural = _("acceptors")
        ordering = ["acceptor_code"]

    def __str__(self) -> str:
        return self.acceptor_code

    @property
    def province(self) -> str:
        return self.admdvs[:2] + "0000"


class AcceptorClient(models.Model):
    """An API client of an acceptor: signed requests exactly as institutions' (spec/security.md)."""

    client_id = models.CharField(max_length=64, unique=True, verbose_name=_("client ID"))
    acceptor = models.ForeignKey(
        Acceptor, on_delete=models.PROTECT, related_name="clients", verbose_name=_("acceptor"),
    )
    secret_enc = models.TextField(verbose_name=_("secret (encrypted)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("acceptor client")
        verbose_name_plural = _("acceptor clients")

    def __str__(self) -> str:
        return self.client_id


class CardBenefit(models.Model):
    """A same-city benefit rule (同城待遇) of a prefecture, versioned by dates
    (``card_benefits.csv``): ``pay_prop`` is the share of ``list_amt`` paid."""

    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    svc_type = models.CharField(max_length=20, verbose_name=_("service type"))
    min_age = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("minimum age"))
    max_age = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("maximum age"))
    benefit_code = models.CharField(max_length=40, verbose_name=_("benefit code"))
    pay_prop = models.DecimalField(max_digits=5, decimal_places=4, verbose_name=_("share paid"))
    begndate = models.DateField(verbose_name=_("begin date"))
    enddate = models.DateField(null=True, blank=True, verbose_name=_("end date"))

    class Meta:
        verbose_name = _("same-city benefit")
        verbose_name_plural = _("same-city benefits")
        ordering = ["admdvs", "svc_type", "min_age", "begndate"]
        constraints = [
            models.UniqueConstraint(
                fields=["admdvs", "svc_type", "min_age", "max_age", "begndate"], name="one_benefit_row"
            ),
            models.CheckConstraint(condition=Q(pay_prop__gte=0, pay_prop__lte=1), name="pay_prop_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.admdvs} {self.svc_type} {self.benefit_code}"


class CardSettlementAgent(models.Model):
    """The card agent (发卡地合作银行/结算代理) that pays for a province in the card scheme
    (``card_prefunds.csv`` column ``settlement_agent``)."""

    admdvs = models.CharField(max_length=6, unique=True, verbose_name=_("region code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("card settlement agent")
        verbose_name_plural = _("card settlement agents")

    def __str__(self) -> str:
        return f"{self.admdvs} {self.name}"


class DenyListVersion(models.Model):
    """A deny-list version (spec/cards.md §Deny lists): issued for every transaction that changes
    entries, and at most once per full hour as a heartbeat (``heartbeat_hour`` unique)."""

    class Cause(models.TextChoices):
        OPENING = "opening"
        CHANGE = "change"
        HEARTBEAT = "heartbeat"

    version = models.BigIntegerField(primary_key=True, verbose_name=_("version"))
    issued_at = models.DateTimeField(verbose_name=_("issued at"))
    cause = models.CharField(max_length=10, choices=Cause.choices, verbose_name=_("cause"))
    heartbeat_hour = models.DateTimeField(
        null=True, blank=True, unique=True, verbose_name=_("heartbeat hour"),
    )

    class Meta:
        verbose_name = _("deny-list version")
        verbose_name_plural = _("deny-list versions")
        ordering = ["version"]

    def __str__(self) -> str:
        return f"deny list v{self.version}"


class DenyListChange(models.Model):
    """How version ``version`` changed the entry of ``card_ref``: ``add`` (listed, or reason
    changed; ``since`` = when it entered the list with that reason) or ``remove``."""

    class Op(models.TextChoices):
        ADD = "add"
        REMOVE = "remove"

    version = models.ForeignKey(
        DenyListVersion, on_delete=models.PROTECT, related_name="changes", verbose_name=_("version"),
    )
    card_ref = models.CharField(max_length=64, verbose_name=_("card reference"))
    op = models.CharField(max_length=6, choices=Op.choices, verbose_name=_("operation"))
    reason = models.CharField(max_length=10, blank=True, verbose_name=_("reason"))
    since = models.DateTimeField(null=True, blank=True, verbose_name=_("listed since"))

    class Meta:
        verbose_name = _("deny-list change")
        verbose_name_plural = _("deny-list changes")
        indexes = [models.Index(fields=["card_ref", "version"])]
        constraints = [models.UniqueConstraint(fields=["version", "card_ref"], name="one_change_per_version")]

    def __str__(self) -> str:
        return f"v{self.version_id} {self.op} {self.card_ref[:8]}"


class DenyListDocument(models.Model):
    """Signed bytes of a full list (``base_version`` 0) or a delta, built once and served again
    byte for byte (same version → same bytes)."""

    version = models.BigIntegerField(verbose_name=_("version"))
    base_version = models.BigIntegerField(verbose_name=_("base version"))
    canonical = models.BinaryField(verbose_name=_("canonical bytes"))
    signature = models.BinaryField(verbose_name=_("signature"))
    key_id = models.CharField(max_length=30, verbose_name=_("key ID"))

    class Meta:
        verbose_name = _("deny-list document")
        verbose_name_plural = _("deny-list documents")
        constraints = [models.UniqueConstraint(fields=["version", "base_version"], name="one_document")]

    def __str__(self) -> str:
        return f"deny list {self.base_version}→{self.version}"


class Acceptance(models.Model):
    """An accepted acceptance record (spec/cards.md §Acceptance records), or the whole reversal
    of one (``kind`` ``reversal``, negative amounts, ``reverses`` set). ``clr_date`` is the card
    cycle open at commit; ``cleared`` when ``amt`` ≠ 0 (a clearing item exists)."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance"
        REVERSAL = "reversal"

    acpt_id = models.CharField(max_length=30, unique=True, verbose_name=_("acceptance ID"))
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.ACCEPTANCE, verbose_name=_("kind"),
    )
    acceptor = models.ForeignKey(  # no own index: one_acceptance_per_serial leads with acceptor_id
        Acceptor, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("acceptor"),
        db_index=False,
    )
    acpt_serial = models.CharField(max_length=40, verbose_name=_("acceptor serial"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    card = models.ForeignKey(  # no own index: the (card, used_at) index leads with card_id
        Card, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("card"),
        db_index=False,
    )
    svc_type = models.CharField(max_length=20, verbose_name=_("service type"))
    used_at = models.DateTimeField(verbose_name=_("used at"))
    mode = models.CharField(max_length=8, verbose_name=_("mode"))
    list_version = models.BigIntegerField(null=True, blank=True, verbose_name=_("deny-list version"))
    list_amt = models.DecimalField(**MONEY, verbose_name=_("list amount"))
    amt = models.DecimalField(**MONEY, verbose_name=_("amount"))
    pay_src = models.CharField(max_length=10, verbose_name=_("payment source"))
    benefit_code = models.CharField(max_length=40, blank=True, verbose_name=_("benefit code"))
    pay_prop = models.DecimalField(max_digits=5, decimal_places=4, verbose_name=_("share paid"))
    late_listing = models.BooleanField(default=False, verbose_name=_("late listing"))
    cleared = models.BooleanField(verbose_name=_("cleared"))
    issuer_admdvs = models.CharField(max_length=6, verbose_name=_("issuer region"))
    acceptor_admdvs = models.CharField(max_length=6, verbose_name=_("acceptor region"))
    payer = models.CharField(max_length=6, verbose_name=_("payer province"))
    payee = models.CharField(max_length=6, verbose_name=_("payee province"))
    clr_date = models.DateField(verbose_name=_("clearing date"))
    received_at = models.DateTimeField(verbose_name=_("received at"))
    received_date = models.DateField(verbose_name=_("received date"))
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal",
        verbose_name=_("reverses"),
    )
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("acceptance record")
        verbose_name_plural = _("acceptance records")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["acceptor", "acpt_serial"], name="one_acceptance_per_serial")
        ]
        indexes = [
            models.Index(fields=["received_date", "payer"]),
            models.Index(fields=["received_date", "acceptor_admdvs"]),
            models.Index(fields=["card", "used_at"]),
            models.Index(fields=["clr_date", "payee"]),
        ]

    def __str__(self) -> str:
        return self.acpt_id


class AcceptanceRefusal(models.Model):
    """A refused record, counted per code in the bureau views (refusals store nothing else)."""

    acceptor = models.ForeignKey(
        Acceptor, on_delete=models.PROTECT, related_name="refusals", verbose_name=_("acceptor"),
    )
    received_date = models.DateField(verbose_name=_("received date"))
    issuer_province = models.CharField(max_length=6, blank=True, verbose_name=_("issuer province"))
    code = models.CharField(max_length=40, verbose_name=_("code"))
    at = models.DateTimeField(verbose_name=_("at"))

    class Meta:
        verbose_name = _("acceptance refusal")
        verbose_name_plural = _("acceptance refusals")
        indexes = [models.Index(fields=["received_date", "code"])]

    def __str__(self) -> str:
        return f"{self.acceptor_id} {self.code}"


class AcceptanceDaySequence(models.Model):
    """Daily ``acpt_id`` counter where the database has no sequences (SQLite: writes are
    serialised anyway). On PostgreSQL a sequence per day is used instead."""

    day = models.DateField(primary_key=True, verbose_name=_("day"))
    last = models.BigIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        verbose_name = _("acceptance day sequence")
        verbose_name_plural = _("acceptance day sequences")

    def __str__(self) -> str:
        return f"{self.day} {self.last}"
