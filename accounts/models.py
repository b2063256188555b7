"""Regions, institutions and their API clients, staff, insured persons and filings.

Personal data (``certno``, ``psn_name``, ``card_no``, ``card_sn``, client secrets) is stored only
encrypted (``core.crypto``: AES-256-GCM, key id beside each value), with blind indexes for lookups
(spec/security.md §Personal data at rest).
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A GB/T 2260 region of ``regions.csv``: province or prefecture (``admdvs``, 6 digits)."""

    class Level(models.TextChoices):
        PROVINCE = "province"
        PREFECTURE = "prefecture"

    admdvs = models.CharField(max_length=6, primary_key=True, verbose_name=_("region code"))
    name = models.CharField(max_length=50, verbose_name=_("name"))
    level = models.CharField(max_length=12, choices=Level.choices, verbose_name=_("level"))
    parent = models.CharField(max_length=6, blank=True, verbose_name=_("parent"))

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["admdvs"]

    def __str__(self) -> str:
        return f"{self.admdvs} {self.name}"


class Institution(models.Model):
    """定点医药机构 (``fixmedins_code``): hospital (type 1) or pharmacy (type 2) in region ``admdvs``."""

    class Type(models.TextChoices):
        HOSPITAL = "1", "hospital"
        PHARMACY = "2", "pharmacy"

    fixmedins_code = models.CharField(max_length=30, unique=True, verbose_name=_("institution code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    fixmedins_type = models.CharField(max_length=1, choices=Type.choices, verbose_name=_("institution type"))
    hosp_lv = models.CharField(
        max_length=1, blank=True, help_text="1, 2, 3; empty for pharmacies", verbose_name=_("hospital grade")
    )
    admdvs = models.CharField(
        max_length=6, db_index=True, help_text="就医地 region of the institution",
        verbose_name=_("region code"),
    )

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["fixmedins_code"]

    def __str__(self) -> str:
        return self.fixmedins_code

    @property
    def province(self) -> str:
        return self.admdvs[:2] + "0000"


class InstitutionClient(models.Model):
    """An API client of an institution (spec/security.md §Signed requests). Secret stored encrypted."""

    client_id = models.CharField(max_length=64, unique=True, verbose_name=_("client ID"))
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="clients", verbose_name=_("institution")
    )
    secret_enc = models.TextField(help_text="AES-256-GCM, 'kid:base64'", verbose_name=_("secret (encrypted)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    gateway_enabled = models.BooleanField(
        default=False, verbose_name=_("NHSA gateway access"),
        help_text="may also call the NHSA gateway with x-tif headers (opt-in, spec/nhsa-gateway.md §2)")
    require_body_signature = models.BooleanField(
        default=False, verbose_name=_("body signature required"),
        help_text="gateway calls must also carry the body-covering X-Signature headers")

    class Meta:
        verbose_name = _("institution API client")
        verbose_name_plural = _("institution API clients")

    def __str__(self) -> str:
        return self.client_id


class StaffProfile(models.Model):
    """Role and province of a bureau or clearing-house user (spec/security.md §People)."""

    class Role(models.TextChoices):
        BUREAU = "bureau"
        CLEARING_STAFF = "clearing_staff"
        CARD_BUREAU = "card_bureau"  # spec/cards.md: the 人社 card bureau of a YRD province
        CARD_DESK = "card_desk"  # spec/cards.md: a service desk anywhere in the region

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="staff_profile", verbose_name=_("user"))
    admdvs = models.CharField(
        max_length=6, help_text="provincial-level bureau code", verbose_name=_("region code")
    )
    role = models.CharField(max_length=20, choices=Role.choices, verbose_name=_("role"))

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.admdvs}"


class Person(models.Model):
    """An insured person (参保人) loaded by their home bureau.

    ``acct_balance`` is the personal-account balance in yuan (Decimal, 2 places); only settlements,
    reversals and credits move it once the person exists.
    """

    class InsuStatus(models.TextChoices):
        INSURED = "1"
        SUSPENDED = "2"
        TERMINATED = "4"

    psn_no = models.CharField(max_length=30, unique=True, verbose_name=_("person number"))
    psn_cert_type = models.CharField(max_length=2, default="01", verbose_name=_("certificate type"))
    certno_enc = models.TextField(verbose_name=_("certificate number (encrypted)"))
    certno_bidx = models.CharField(
        max_length=64, unique=True, verbose_name=_("certificate number blind index")
    )
    psn_name_enc = models.TextField(verbose_name=_("name (encrypted)"))
    gend = models.CharField(max_length=1, blank=True, verbose_name=_("gender"))
    brdy = models.DateField(null=True, blank=True, verbose_name=_("birth date"))
    insutype = models.CharField(max_length=3, verbose_name=_("insurance type"))
    insuplc_admdvs = models.CharField(max_length=6, db_index=True, verbose_name=_("insured place"))
    psn_insu_stas = models.CharField(
        max_length=1, choices=InsuStatus.choices, default="1", verbose_name=_("insured status")
    )
    card_no_enc = models.TextField(  # noqa: DJ001 - NULL = no card
        null=True, blank=True, verbose_name=_("card number (encrypted)")
    )
    card_no_bidx = models.CharField(
        max_length=64, unique=True, null=True, blank=True, verbose_name=_("card number blind index")
    )
    card_sn_enc = models.TextField(  # noqa: DJ001 - NULL = no card
        null=True, blank=True, verbose_name=_("card serial (encrypted)")
    )
    acct_balance = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0.00"), verbose_name=_("personal account balance")
    )
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="blind hash of the last upload row",
        verbose_name=_("content hash"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")
        ordering = ["psn_no"]
        constraints = [
            models.CheckConstraint(condition=models.Q(acct_balance__gte=0), name="person_balance_nonneg"),
        ]

    def __str__(self) -> str:
        return self.psn_no

    @property
    def province(self) -> str:
        return self.insuplc_admdvs[:2] + "0000"


class Filing(models.Model):
    """备案: the person may be treated in ``mdtrtarea_admvs`` between ``begndate`` and ``enddate``.

    Long-term types 11/12/13; temporary 21/22/23 (22 is recorded automatically for emergencies,
    spec/policy.md §Who may settle here).
    """

    TEMPORARY_TYPES = ("21", "22", "23")

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="filings", verbose_name=_("insured person")
    )
    filing_type = models.CharField(max_length=2, verbose_name=_("filing type"))
    mdtrtarea_admvs = models.CharField(max_length=6, verbose_name=_("treatment place"))
    begndate = models.DateField(verbose_name=_("begin date"))
    enddate = models.DateField(verbose_name=_("end date"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by_settlement = models.BooleanField(default=False, verbose_name=_("created by settlement"))

    class Meta:
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        ordering = ["begndate", "id"]
        indexes = [models.Index(fields=["person", "begndate", "enddate"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.filing_type} {self.mdtrtarea_admvs}"

    @property
    def temporary(self) -> bool:
        return self.filing_type in self.TEMPORARY_TYPES


class ApiToken(models.Model):
    """Bearer token for staff (``user``) or cardholders (``holder``, the ``cardholder`` login, and
    ``person`` when the holder is an insured person; tokens issued before card-only logins carry
    ``person`` alone); only its SHA-256 is stored."""

    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("user")
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("insured person")
    )
    holder = models.ForeignKey(
        "cardholder.CardholderLogin", null=True, blank=True, on_delete=models.CASCADE,
        related_name="tokens", verbose_name=_("cardholder login")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, person__isnull=True, holder__isnull=True)
                | (models.Q(user__isnull=True)
                   & (models.Q(person__isnull=False) | models.Q(holder__isnull=False))),
                name="token_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"token {self.id} ({'user' if self.user_id else 'cardholder'})"


class AccountCredit(models.Model):
    """A personal-account credit (划入) of ``amount`` yuan to ``person`` (spec/bureau-api.md
    §Reference data). Idempotent on ``(person, reference)``; moves ``Person.acct_balance`` in the
    same transaction (``accounts.services.credits.account_credit_create``)."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="account_credits", verbose_name=_("insured person")
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("amount"))
    value_date = models.DateField(verbose_name=_("value date"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    balance_after = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("balance after"))
    created_by = models.CharField(
        max_length=100, help_text="actor (username) who posted it", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("account credit")
        verbose_name_plural = _("account credits")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "reference"], name="account_credit_reference_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="account_credit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.reference} {self.amount}"
