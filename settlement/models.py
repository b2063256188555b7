"""Settlement models: catalogue (就医地目录), policies (参保地政策), accumulators, settlements and their
fee lines (spec/policy.md, spec/hospital-api.md).

Amounts are ``Decimal`` yuan with 2 places; ratios 4 places; ``cnt``/``pric`` up to 4 places.
Only :func:`settlement.transitions.settlement_status_move` changes ``Settlement.status``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields import NOT_PROVIDED

ZERO = Decimal("0.00")


def _money(*, default: Any = NOT_PROVIDED, null: bool = False) -> models.DecimalField:
    """Yuan, 2 places (the money format's 14 digits before the point)."""
    return models.DecimalField(max_digits=16, decimal_places=2, default=default, null=null)


def _ratio(*, default: Any = NOT_PROVIDED) -> models.DecimalField:
    """A ratio in [0, 1] with 4 places."""
    return models.DecimalField(max_digits=5, decimal_places=4, default=default)


class MedTypeGroup(models.TextChoices):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    PHARMACY = "pharmacy"


class CatalogueItem(models.Model):
    """One version of a catalogue row of the treatment province ``admdvs`` (``xx0000``), valid
    ``begndate``..``enddate`` inclusive. ``chrgitm_lv`` 01 甲, 02 乙 (``selfpay_prop`` 先行自付),
    03 丙. ``pric_uplmt_amt`` is the price ceiling per unit (yuan, ≤ 4 places) or null."""

    admdvs = models.CharField(max_length=6)
    med_list_codg = models.CharField(max_length=50)
    med_list_name = models.CharField(max_length=200, blank=True)
    list_type = models.CharField(max_length=10, blank=True)
    chrgitm_lv = models.CharField(max_length=2)
    selfpay_prop = _ratio(default=Decimal("0"))
    pric_uplmt_amt = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    begndate = models.DateField()
    enddate = models.DateField()

    class Meta:
        ordering = ["admdvs", "med_list_codg", "begndate"]
        constraints = [
            models.UniqueConstraint(
                fields=["admdvs", "med_list_codg", "begndate"], name="catalogue_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.admdvs} {self.med_list_codg} {self.begndate}"


class Policy(models.Model):
    """Policy of the insured region ``insuplc_admdvs`` for an ``insutype``, med_type group and
    ``hosp_lv`` ('' for pharmacies), valid ``begndate``..``enddate`` inclusive (spec/policy.md §The split)."""

    class DeductibleBasis(models.TextChoices):
        VISIT = "visit"
        YEAR = "year"

    insuplc_admdvs = models.CharField(max_length=6)
    insutype = models.CharField(max_length=3)
    med_type_group = models.CharField(max_length=12, choices=MedTypeGroup.choices)
    hosp_lv = models.CharField(max_length=1, blank=True)
    deductible = _money()
    deductible_basis = models.CharField(max_length=5, choices=DeductibleBasis.choices)
    pool_prop = _ratio()
    annual_cap = _money()
    temp_prop_reduction = _ratio(default=Decimal("0"))
    begndate = models.DateField()
    enddate = models.DateField()

    class Meta:
        ordering = ["insuplc_admdvs", "insutype", "med_type_group", "hosp_lv", "begndate"]
        constraints = [
            models.UniqueConstraint(
                fields=["insuplc_admdvs", "insutype", "med_type_group", "hosp_lv", "begndate"],
                name="policy_version_unique",
            )
        ]

    def __str__(self) -> str:
        lv = self.hosp_lv or "-"
        return f"{self.insuplc_admdvs} {self.insutype} {self.med_type_group} {lv} {self.begndate}"


class ReferenceVersion(models.Model):
    """One row (id 1): a random stamp that changes with every write to policies or the catalogue
    (database triggers, migration 0002), so each process's cache of them
    (:mod:`settlement.services.reference_cache`) knows when to drop what it holds."""

    stamp = models.BigIntegerField()

    def __str__(self) -> str:
        return f"reference stamp {self.stamp}"


class Accumulator(models.Model):
    """Per person, calendar year, ``insutype`` and med_type group: deductible used and fund paid
    (yuan). Moved only under the person's row lock."""

    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="accumulators")
    year = models.PositiveSmallIntegerField()
    insutype = models.CharField(max_length=3)
    med_type_group = models.CharField(max_length=12, choices=MedTypeGroup.choices)
    deductible_used = _money(default=ZERO)
    fund_paid = _money(default=ZERO)

    class Meta:
        ordering = ["person", "year", "insutype", "med_type_group"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "year", "insutype", "med_type_group"], name="accumulator_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(deductible_used__gte=0, fund_paid__gte=0), name="accumulator_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.year} {self.insutype} {self.med_type_group}"


class Settlement(models.Model):
    """A settlement (``status`` settled → reversed) or a reversal record (``status`` reversal, with
    ``orig``). ``(institution, medins_setl_id)`` is unique: one namespace for both kinds.

    ``dedc_moved``/``fund_moved``/``acct_moved`` are what this record moved on the accumulator
    (``accum_year``, ``insutype``, med_type group) and on the person's account balance (positive for
    settlements: added to the accumulators, taken from the balance; negative for reversals), so a
    reversal moves back exactly. ``fingerprint`` is the HMAC of the business content
    (spec/hospital-api.md §Idempotency); no personal data is stored in clear here.
    """

    class Status(models.TextChoices):
        SETTLED = "settled"
        REVERSED = "reversed"
        REVERSAL = "reversal"

    setl_id = models.CharField(max_length=30, unique=True)
    mdtrt_id = models.CharField(max_length=30)
    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="settlements"
    )
    medins_setl_id = models.CharField(max_length=30)
    fingerprint = models.CharField(max_length=64)
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="settlements")
    status = models.CharField(max_length=8, choices=Status.choices)
    orig = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    reason = models.CharField(max_length=200, blank=True)

    insutype = models.CharField(max_length=3)
    med_type = models.CharField(max_length=2)
    clr_type = models.CharField(max_length=2)
    insuplc_admdvs = models.CharField(max_length=6)
    mdtrtarea_admvs = models.CharField(max_length=6)
    payer = models.CharField(max_length=6)
    payee = models.CharField(max_length=6)
    begntime = models.DateTimeField(null=True, blank=True)
    endtime = models.DateTimeField(null=True, blank=True)
    dise_codg = models.CharField(max_length=30, blank=True)
    acct_used_flag = models.CharField(max_length=1, default="0")

    medfee_sumamt = _money()
    fulamt_ownpay_amt = _money()
    overlmt_selfpay = _money()
    preselfpay_amt = _money()
    inscp_scp_amt = _money()
    act_pay_dedc = _money()
    pool_prop_selfpay = _ratio()
    hifp_pay = _money()
    fund_pay_sumamt = _money()
    psn_part_amt = _money()
    acct_pay = _money()
    psn_cash_pay = _money()
    balc = _money()
    clr_amt = _money()

    setl_time = models.DateTimeField()
    setl_date = models.DateField(help_text="Asia/Shanghai date of setl_time (the settlement day)")
    clr_date = models.DateField(db_index=True)

    accum_year = models.PositiveSmallIntegerField()
    med_type_group = models.CharField(max_length=12, choices=MedTypeGroup.choices)
    dedc_moved = _money(default=ZERO)
    fund_moved = _money(default=ZERO)
    acct_moved = _money(default=ZERO)

    filing = models.ForeignKey(
        "accounts.Filing", null=True, blank=True, on_delete=models.PROTECT, related_name="settlements"
    )
    filing_type = models.CharField(max_length=2, blank=True)
    filing_temporary = models.BooleanField(default=False)
    filing_created_now = models.BooleanField(default=False)

    class Meta:
        ordering = ["setl_time", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "medins_setl_id"], name="settlement_medins_setl_id_unique"
            ),
            models.UniqueConstraint(
                fields=["orig"], condition=models.Q(orig__isnull=False), name="one_reversal_per_settlement"
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "setl_date"]),
            models.Index(fields=["person", "setl_date"]),
        ]

    def __str__(self) -> str:
        return self.setl_id


class FeeDetail(models.Model):
    """One fee line of a settlement with its classification (spec/policy.md §Fee lines)."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    feedetl_sn = models.CharField(max_length=30)
    med_list_codg = models.CharField(max_length=50)
    fee_ocur_time = models.DateTimeField()
    cnt = models.DecimalField(max_digits=16, decimal_places=4)
    pric = models.DecimalField(max_digits=16, decimal_places=4)
    det_item_fee_sumamt = _money()
    chrgitm_lv = models.CharField(max_length=2)
    selfpay_prop = _ratio()
    pric_uplmt_amt = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    fulamt_ownpay_amt = _money()
    overlmt_amt = _money()
    preselfpay_amt = _money()
    inscp_scp_amt = _money()
    warn = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["settlement", "id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "feedetl_sn"], name="feedetail_sn_unique")
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id}:{self.feedetl_sn}"
