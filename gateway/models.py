"""Gateway records (spec/nhsa-gateway.md §3.2, §4): the visit (就诊, ``mdtrt_id``) with its
transitions and fee lines, the ``msgid`` registry, sign-ins (``sign_no``) and 3202's files.

Personal data is stored only encrypted (the visit's credential) or as hashes; stored answers of
write messages are kept encrypted (they carry names and masked ids).
Only :func:`gateway.visits.visit_move` changes ``Visit.status``.
"""

from __future__ import annotations

from django.db import models


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

    mdtrt_id = models.CharField(max_length=30, unique=True)
    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="visits")
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="visits")
    chain = models.CharField(max_length=10, choices=Chain.choices)
    status = models.CharField(max_length=10, choices=VisitStatus.choices, default=VisitStatus.OPEN)
    cert_type = models.CharField(max_length=3)
    cert_no_enc = models.TextField()
    card_sn_enc = models.TextField(blank=True)
    insutype = models.CharField(max_length=3)
    med_type = models.CharField(max_length=2, blank=True)
    dise_codg = models.CharField(max_length=30, blank=True)
    ipt_otp_no = models.CharField(max_length=30, blank=True)
    begntime = models.DateTimeField()
    endtime = models.DateTimeField(null=True, blank=True)
    open_msgid = models.CharField(max_length=30)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.mdtrt_id


class VisitTransition(models.Model):
    """One status move of a visit, with the message that made it."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, choices=VisitStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=VisitStatus.choices)
    msgid = models.CharField(max_length=30)
    infno = models.CharField(max_length=4)
    at = models.DateTimeField()

    class Meta:
        ordering = ["visit", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.from_status}->{self.to_status}"


class VisitLine(models.Model):
    """A fee line uploaded by 2204/2301 with its classification at upload (``policy.md``).
    ``cnt_text``/``pric_text`` keep the places the HIS sent (echoed as numbers). ``setl_id``: the
    settlement that took the line (a line is unsettled when that settlement is no longer live)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="lines")
    feedetl_sn = models.CharField(max_length=30)
    chrg_bchno = models.CharField(max_length=30, blank=True)
    upload_msgid = models.CharField(max_length=30)
    med_list_codg = models.CharField(max_length=50)
    fee_ocur_time = models.DateTimeField()
    cnt_text = models.CharField(max_length=24)
    pric_text = models.CharField(max_length=24)
    det_item_fee_sumamt = models.DecimalField(max_digits=16, decimal_places=2)
    dise_codg = models.CharField(max_length=30, blank=True)
    chrgitm_lv = models.CharField(max_length=2)
    selfpay_prop = models.DecimalField(max_digits=5, decimal_places=4)
    pric_uplmt_amt = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    fulamt_ownpay_amt = models.DecimalField(max_digits=16, decimal_places=2)
    overlmt_amt = models.DecimalField(max_digits=16, decimal_places=2)
    preselfpay_amt = models.DecimalField(max_digits=16, decimal_places=2)
    inscp_scp_amt = models.DecimalField(max_digits=16, decimal_places=2)
    warn = models.CharField(max_length=30, blank=True)
    setl_id = models.CharField(max_length=30, blank=True, db_index=True)

    class Meta:
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

    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="+")
    msgid = models.CharField(max_length=30)
    infno = models.CharField(max_length=4)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    fingerprint = models.CharField(max_length=64, blank=True)
    response_enc = models.TextField(blank=True)
    mdtrt_id = models.CharField(max_length=30, blank=True)
    setl_id = models.CharField(max_length=30, blank=True)
    psn_no = models.CharField(max_length=30, blank=True)
    undone_by = models.CharField(max_length=30, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "msgid"], name="gateway_msgid_unique")]

    def __str__(self) -> str:
        return f"{self.msgid} {self.infno}"


class SignIn(models.Model):
    """签到 (9001) of an institution's operator; ``signed_out_at`` set by 9002."""

    sign_no = models.CharField(max_length=30, unique=True)
    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="+")
    opter_no = models.CharField(max_length=30, blank=True)
    signed_in_at = models.DateTimeField()
    signed_out_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.sign_no


class ExchangeFile(models.Model):
    """A file of 3202's flow: uploaded by 9101 (``upload``) or written by 3202 (``result``),
    fetched by 9102 until ``expires_at`` (7 days)."""

    file_qury_no = models.CharField(max_length=30, unique=True)
    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6)
    filename = models.CharField(max_length=100)
    content = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.file_qury_no


class RefSerial(models.Model):
    """Issues ``inf_refmsgid`` serials where PostgreSQL's sequence ``gateway_refmsgid_seq`` is not
    available (the embedded SQLite default): each row's id is one serial."""

    def __str__(self) -> str:
        return str(self.pk)
