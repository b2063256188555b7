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
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


def _money(
    *, default: Any = NOT_PROVIDED, null: bool = False, verbose_name: Any = None
) -> models.DecimalField:
    """Yuan, 2 places (the money format's 14 digits before the point)."""
    return models.DecimalField(max_digits=16, decimal_places=2, default=default, null=null,
                               verbose_name=verbose_name)


def _ratio(*, default: Any = NOT_PROVIDED, verbose_name: Any = None) -> models.DecimalField:
    """A ratio in [0, 1] with 4 places."""
    return models.DecimalField(max_digits=5, decimal_places=4, default=default, verbose_name=verbose_name)


class MedTypeGroup(models.TextChoices):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    PHARMACY = "pharmacy"


class CatalogueItem(models.Model):
    """One version of a catalogue row of the treatment province ``admdvs`` (``xx0000``), valid
    ``begndate``..``enddate`` inclusive. ``chrgitm_lv`` 01 甲, 02 乙 (``selfpay_prop`` 先行自付),
    03 丙. ``pric_uplmt_amt`` is the price ceiling per unit (yuan, ≤ 4 places) or null."""

    admdvs = models.CharField(max_length=6, verbose_name=_("region code"))
    med_list_codg = models.CharField(max_length=50, verbose_name=_("catalogue code"))
    med_list_name = models.CharField(max_length=200, blank=True, verbose_name=_("catalogue name"))
    list_type = models.CharField(max_length=10, blank=True, verbose_name=_("list type"))
    chrgitm_lv = models.CharField(max_length=2, verbose_name=_("catalogue class"))
    selfpay_prop = _ratio(default=Decimal("0"), verbose_name=_("self-pay ratio"))
    pric_uplmt_amt = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, verbose_name=_("price ceiling")
    )
    begndate = models.DateField(verbose_name=_("begin date"))
    enddate = models.DateField(verbose_name=_("end date"))

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
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

    insuplc_admdvs = models.CharField(max_length=6, verbose_name=_("insured place"))
    insutype = models.CharField(max_length=3, verbose_name=_("insurance type"))
    med_type_group = models.CharField(
        max_length=12, choices=MedTypeGroup.choices, verbose_name=_("medical type group")
    )
    hosp_lv = models.CharField(max_length=1, blank=True, verbose_name=_("hospital grade"))
    deductible = _money(verbose_name=_("deductible"))
    deductible_basis = models.CharField(
        max_length=5, choices=DeductibleBasis.choices, verbose_name=_("deductible basis")
    )
    pool_prop = _ratio(verbose_name=_("pooled fund ratio"))
    annual_cap = _money(verbose_name=_("annual cap"))
    temp_prop_reduction = _ratio(default=Decimal("0"), verbose_name=_("temporary ratio reduction"))
    begndate = models.DateField(verbose_name=_("begin date"))
    enddate = models.DateField(verbose_name=_("end date"))

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
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

    stamp = models.BigIntegerField(verbose_name=_("stamp"))

    class Meta:
        verbose_name = _("reference data version")
        verbose_name_plural = _("reference data versions")

    def __str__(self) -> str:
        return f"reference stamp {self.stamp}"


class Accumulator(models.Model):
    """Per person, calendar year, ``insutype`` and med_type group: deductible used and fund paid
    (yuan). Moved only under the person's row lock."""

    person = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, related_name="accumulators",
        verbose_name=_("insured person"),
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    insutype = models.CharField(max_length=3, verbose_name=_("insurance type"))
    med_type_group = models.CharField(
        max_length=12, choices=MedTypeGroup.choices, verbose_name=_("medical type group")
    )
    deductible_used = _money(default=ZERO, verbose_name=_("deductible used"))
    fund_paid = _money(default=ZERO, verbose_name=_("fund paid"))

    class Meta:
        verbose_name = _("accumulator")
        verbose_name_plural = _("accumulators")
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

    setl_id = models.CharField(max_length=30, unique=True, verbose_name=_("settlement ID"))
    mdtrt_id = models.CharField(max_length=30, verbose_name=_("visit ID"))
    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="settlements",
        verbose_name=_("institution"),
    )
    medins_setl_id = models.CharField(max_length=30, verbose_name=_("institution settlement ID"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    person = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, related_name="settlements",
        verbose_name=_("insured person"),
    )
    status = models.CharField(max_length=8, choices=Status.choices, verbose_name=_("status"))
    orig = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals",
        verbose_name=_("original settlement"),
    )
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    reversal_kind = models.CharField(
        max_length=10, blank=True, verbose_name=_("reversal kind"),
        help_text="reversal rows: 'reversal', or 'correction' (冲正, NHSA 2601)")

    insutype = models.CharField(max_length=3, verbose_name=_("insurance type"))
    med_type = models.CharField(max_length=2, verbose_name=_("medical type"))
    clr_type = models.CharField(max_length=2, verbose_name=_("clearing type"))
    insuplc_admdvs = models.CharField(max_length=6, verbose_name=_("insured place"))
    mdtrtarea_admvs = models.CharField(max_length=6, verbose_name=_("treatment place"))
    payer = models.CharField(max_length=6, verbose_name=_("payer province"))
    payee = models.CharField(max_length=6, verbose_name=_("payee province"))
    begntime = models.DateTimeField(null=True, blank=True, verbose_name=_("begin time"))
    endtime = models.DateTimeField(null=True, blank=True, verbose_name=_("end time"))
    dise_codg = models.CharField(max_length=30, blank=True, verbose_name=_("diagnosis code"))
    acct_used_flag = models.CharField(max_length=1, default="0", verbose_name=_("personal account used"))

    medfee_sumamt = _money(verbose_name=_("total medical fees"))
    fulamt_ownpay_amt = _money(verbose_name=_("fully self-paid amount"))
    overlmt_selfpay = _money(verbose_name=_("self-paid above price limits"))
    preselfpay_amt = _money(verbose_name=_("self-paid in advance"))
    inscp_scp_amt = _money(verbose_name=_("amount within policy scope"))
    act_pay_dedc = _money(verbose_name=_("deductible actually paid"))
    pool_prop_selfpay = _ratio(verbose_name=_("pooled fund payment ratio"))
    hifp_pay = _money(verbose_name=_("pooled fund payment"))
    fund_pay_sumamt = _money(verbose_name=_("total fund payment"))
    psn_part_amt = _money(verbose_name=_("total borne by the person"))
    acct_pay = _money(verbose_name=_("personal account payment"))
    psn_cash_pay = _money(verbose_name=_("cash payment"))
    balc = _money(verbose_name=_("personal account balance after"))
    clr_amt = _money(verbose_name=_("clearing amount"))

    setl_time = models.DateTimeField(verbose_name=_("settlement time"))
    setl_date = models.DateField(
        help_text="Asia/Shanghai date of setl_time (the settlement day)", verbose_name=_("settlement date")
    )
    clr_date = models.DateField(db_index=True, verbose_name=_("clearing date"))

    accum_year = models.PositiveSmallIntegerField(verbose_name=_("accumulator year"))
    med_type_group = models.CharField(
        max_length=12, choices=MedTypeGroup.choices, verbose_name=_("medical type group")
    )
    dedc_moved = _money(default=ZERO, verbose_name=_("deductible moved"))
    fund_moved = _money(default=ZERO, verbose_name=_("fund amount moved"))
    acct_moved = _money(default=ZERO, verbose_name=_("account amount moved"))

    filing = models.ForeignKey(
        "accounts.Filing", null=True, blank=True, on_delete=models.PROTECT, related_name="settlements",
        verbose_name=_("filing"),
    )
    filing_type = models.CharField(max_length=2, blank=True, verbose_name=_("filing type"))
    filing_temporary = models.BooleanField(default=False, verbose_name=_("temporary filing"))
    filing_created_now = models.BooleanField(
        default=False, verbose_name=_("filing created by this settlement")
    )

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
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

    settlement = models.ForeignKey(
        Settlement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("settlement")
    )
    feedetl_sn = models.CharField(max_length=30, verbose_name=_("fee line number"))
    med_list_codg = models.CharField(max_length=50, verbose_name=_("catalogue code"))
    fee_ocur_time = models.DateTimeField(verbose_name=_("fee time"))
    cnt = models.DecimalField(max_digits=16, decimal_places=4, verbose_name=_("count"))
    pric = models.DecimalField(max_digits=16, decimal_places=4, verbose_name=_("price"))
    det_item_fee_sumamt = _money(verbose_name=_("line amount"))
    chrgitm_lv = models.CharField(max_length=2, verbose_name=_("catalogue class"))
    selfpay_prop = _ratio(verbose_name=_("self-pay ratio"))
    pric_uplmt_amt = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, verbose_name=_("price ceiling")
    )
    fulamt_ownpay_amt = _money(verbose_name=_("fully self-paid amount"))
    overlmt_amt = _money(verbose_name=_("amount above limits"))
    preselfpay_amt = _money(verbose_name=_("self-paid in advance"))
    inscp_scp_amt = _money(verbose_name=_("amount within policy scope"))
    warn = models.CharField(max_length=30, blank=True, verbose_name=_("warning"))

    class Meta:
        verbose_name = _("fee line")
        verbose_name_plural = _("fee lines")
        ordering = ["settlement", "id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "feedetl_sn"], name="feedetail_sn_unique")
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id}:{self.feedetl_sn}"
