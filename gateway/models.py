"""Gateway records (spec/nhsa-gateway.md §3.2, §4): the visit (就诊, ``mdtrt_id``) with its
transitions and fee lines, the ``msgid`` registry, sign-ins (``sign_no``) and 3202's files.

Personal data is stored only encrypted (the visit's credential) or as hashes; stored answers of
write messages are kept encrypted (they carry names and masked ids).
Only :func:`gateway.visits.visit_move` changes ``Visit.status``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitStatus(models.TextChoices):
    OPEN = "open"
    DISCHARGED = "discharged"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class Visit(models.Model):
    """A visit opened by 2201 (outpatient) or 2401 (inpatient). ``status`` holds open, discharged
    or cancelled; whether it is settled is derived from its live settlement (a reversal through
    either door reopens it), see :func:`gateway.visits.visit_state`."""

    class Chain(models.TextChoices):
        OUTPATIENT = "outpatient"
        INPATIENT = "inpatient"

    mdtrt_id = models.CharField(max_length=30, unique=True, verbose_name=_("mdtrt id"))
    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="visits", verbose_name=_("institution")
    )
    person = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, related_name="visits", verbose_name=_("person")
    )
    chain = models.CharField(max_length=10, choices=Chain.choices, verbose_name=_("chain"))
    status = models.CharField(
        max_length=10, choices=VisitStatus.choices, default=VisitStatus.OPEN, verbose_name=_("status")
    )
    cert_type = models.CharField(max_length=3, verbose_name=_("cert type"))
    cert_no_enc = models.TextField(verbose_name=_("cert no enc"))
    card_sn_enc = models.TextField(blank=True, verbose_name=_("card sn enc"))
    insutype = models.CharField(max_length=3, verbose_name=_("insutype"))
    med_type = models.CharField(max_length=2, blank=True, verbose_name=_("med type"))
    dise_codg = models.CharField(max_length=30, blank=True, verbose_name=_("dise codg"))
    ipt_otp_no = models.CharField(max_length=30, blank=True, verbose_name=_("ipt otp no"))
    begntime = models.DateTimeField(verbose_name=_("begntime"))
    endtime = models.DateTimeField(null=True, blank=True, verbose_name=_("endtime"))
    open_msgid = models.CharField(max_length=30, verbose_name=_("open msgid"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self) -> str:
        return self.mdtrt_id


class VisitTransition(models.Model):
    """One status move of a visit, with the message that made it."""

    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("visit")
    )
    from_status = models.CharField(
        max_length=10, choices=VisitStatus.choices, blank=True, verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=10, choices=VisitStatus.choices, verbose_name=_("to status"))
    msgid = models.CharField(max_length=30, verbose_name=_("msgid"))
    infno = models.CharField(max_length=4, verbose_name=_("infno"))
    at = models.DateTimeField(verbose_name=_("at"))

    class Meta:
        verbose_name = _("visit transition")
        verbose_name_plural = _("visit transitions")
        ordering = ["visit", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.from_status}->{self.to_status}"


class VisitLine(models.Model):
    """A fee line uploaded by 2204/2301 with its classification at upload (``policy.md``).
    ``cnt_text``/``pric_text`` keep the places the HIS sent (echoed as numbers). ``setl_id``: the
    settlement that took the line (a line is unsettled when that settlement is no longer live)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="lines", verbose_name=_("visit"))
    feedetl_sn = models.CharField(max_length=30, verbose_name=_("feedetl sn"))
    chrg_bchno = models.CharField(max_length=30, blank=True, verbose_name=_("chrg bchno"))
    upload_msgid = models.CharField(max_length=30, verbose_name=_("upload msgid"))
    med_list_codg = models.CharField(max_length=50, verbose_name=_("med list codg"))
    fee_ocur_time = models.DateTimeField(verbose_name=_("fee ocur time"))
    cnt_text = models.CharField(max_length=24, verbose_name=_("cnt text"))
    pric_text = models.CharField(max_length=24, verbose_name=_("pric text"))
    det_item_fee_sumamt = models.DecimalField(
        max_digits=16, decimal_places=2, verbose_name=_("det item fee sumamt")
    )
    dise_codg = models.CharField(max_length=30, blank=True, verbose_name=_("dise codg"))
    chrgitm_lv = models.CharField(max_length=2, verbose_name=_("chrgitm lv"))
    selfpay_prop = models.DecimalField(max_digits=5, decimal_places=4, verbose_name=_("selfpay prop"))
    pric_uplmt_amt = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, verbose_name=_("pric uplmt amt")
    )
    fulamt_ownpay_amt = models.DecimalField(
        max_digits=16, decimal_places=2, verbose_name=_("fulamt ownpay amt")
    )
    overlmt_amt = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("overlmt amt"))
    preselfpay_amt = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("preselfpay amt"))
    inscp_scp_amt = models.DecimalField(max_digits=16, decimal_places=2, verbose_name=_("inscp scp amt"))
    warn = models.CharField(max_length=30, blank=True, verbose_name=_("warn"))
    setl_id = models.CharField(max_length=30, blank=True, db_index=True, verbose_name=_("setl id"))

    class Meta:
        verbose_name = _("visit line")
        verbose_name_plural = _("visit lines")
        ordering = ["visit", "id"]
        constraints = [models.UniqueConstraint(fields=["visit", "feedetl_sn"], name="visit_line_sn_unique")]

    def __str__(self) -> str:
        return f"{self.visit_id}:{self.feedetl_sn}"


class Message(models.Model):
    """A registered ``msgid`` (unique per institution across all ``infno``, §3.2).

    ``kind``: ``write`` (``response_enc`` holds the stored answer, replayed byte for byte), ``read``
    (answered afresh on a repeat) or ``tombstone`` (named by a 2601 before it arrived).
    ``undone_by``: the ``msgid`` of the 2601 that undid this message (or recorded the tombstone)."""

    class Kind(models.TextChoices):
        WRITE = "write"
        READ = "read"
        TOMBSTONE = "tombstone"

    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    msgid = models.CharField(max_length=30, verbose_name=_("msgid"))
    infno = models.CharField(max_length=4, verbose_name=_("infno"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    fingerprint = models.CharField(max_length=64, blank=True, verbose_name=_("fingerprint"))
    response_enc = models.TextField(blank=True, verbose_name=_("response enc"))
    mdtrt_id = models.CharField(max_length=30, blank=True, verbose_name=_("mdtrt id"))
    setl_id = models.CharField(max_length=30, blank=True, verbose_name=_("setl id"))
    psn_no = models.CharField(max_length=30, blank=True, verbose_name=_("psn no"))
    undone_by = models.CharField(max_length=30, blank=True, verbose_name=_("undone by"))
    received_at = models.DateTimeField(verbose_name=_("received at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [models.UniqueConstraint(fields=["institution", "msgid"], name="gateway_msgid_unique")]

    def __str__(self) -> str:
        return f"{self.msgid} {self.infno}"


class SignIn(models.Model):
    """签到 (9001) of an institution's operator; ``signed_out_at`` set by 9002."""

    sign_no = models.CharField(max_length=30, unique=True, verbose_name=_("sign no"))
    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    opter_no = models.CharField(max_length=30, blank=True, verbose_name=_("opter no"))
    signed_in_at = models.DateTimeField(verbose_name=_("signed in at"))
    signed_out_at = models.DateTimeField(null=True, blank=True, verbose_name=_("signed out at"))

    class Meta:
        verbose_name = _("sign in")
        verbose_name_plural = _("sign ins")

    def __str__(self) -> str:
        return self.sign_no


class ExchangeFile(models.Model):
    """A file of 3202's flow: uploaded by 9101 (``upload``) or written by 3202 (``result``),
    fetched by 9102 until ``expires_at`` (7 days)."""

    file_qury_no = models.CharField(max_length=30, unique=True, verbose_name=_("file qury no"))
    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    kind = models.CharField(max_length=6, verbose_name=_("kind"))
    filename = models.CharField(max_length=100, verbose_name=_("filename"))
    content = models.BinaryField(verbose_name=_("content"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("exchange file")
        verbose_name_plural = _("exchange files")

    def __str__(self) -> str:
        return self.file_qury_no


class RefSerial(models.Model):
    """Issues ``inf_refmsgid`` serials where PostgreSQL's sequence ``gateway_refmsgid_seq`` is not
    available (the embedded SQLite default): each row's id is one serial."""

    class Meta:
        verbose_name = _("ref serial")
        verbose_name_plural = _("ref serials")

    def __str__(self) -> str:
        return str(self.pk)
