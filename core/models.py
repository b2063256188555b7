"""Platform models: the hash-chained audit log (spec/security.md §Audit)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRecord(models.Model):
    """One audited write or person lookup. No personal data in clear.

    Writers insert rows with the chain columns empty. The sealer (``core.audit.audit_seal``) later
    gives each committed row the next ``seal_seq`` (1, 2, 3, …) and
    ``record_hash = SHA-256(prev_hash ‖ canonical JSON of the record's fields and seal_seq)``, where
    ``prev_hash`` is the previous sealed record's hash (64 zeros for the first). The chain follows
    ``seal_seq``, not ``id``: a transaction that took a low id but committed late is sealed later
    instead of breaking the chain. Writers never touch the chain head, so they never queue on it.
    """

    at = models.DateTimeField(db_index=True, verbose_name=_("at"))
    actor = models.CharField(
        max_length=100, help_text="client id, username or psn_no", verbose_name=_("actor")
    )
    role = models.CharField(max_length=30, verbose_name=_("role"))
    action = models.CharField(max_length=50, verbose_name=_("action"))
    object_type = models.CharField(max_length=50, verbose_name=_("object type"))
    object_id = models.CharField(max_length=100, verbose_name=_("object ID"))
    request_id = models.CharField(max_length=64, blank=True, verbose_name=_("request ID"))
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    seal_seq = models.BigIntegerField(null=True, blank=True, unique=True,
                                      help_text="position in the sealed chain (from 1); null = unsealed",
                                      verbose_name=_("seal sequence"))
    prev_hash = models.CharField(max_length=64, blank=True, verbose_name=_("previous hash"))
    record_hash = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("record hash"))

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.action} {self.object_type}:{self.object_id}"


class AuditSealCheckpoint(models.Model):
    """The head of the sealed audit chain: one row (``pk=1``) the sealer updates in the same
    transaction as the records it seals. ``audit_verify`` compares the chain's last record with it,
    so deleting the *last* sealed record (which leaves no broken link behind) is detected too."""

    last_seq = models.BigIntegerField(default=0, verbose_name=_("last sequence"))
    last_id = models.BigIntegerField(default=0, verbose_name=_("last ID"))
    last_hash = models.CharField(max_length=64, verbose_name=_("last hash"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("audit seal checkpoint")
        verbose_name_plural = _("audit seal checkpoints")

    def __str__(self) -> str:
        return f"seal #{self.last_seq} id={self.last_id}"


class SeenNonce(models.Model):
    """A nonce accepted from an institution client (spec/security.md: a nonce seen from that client
    within 600 s → ``401 replayed_nonce``), kept in the database as well as in Redis so that a Redis
    restart without persistence forgets nothing (``core.durable.nonce_consume``). Rows older than
    the nonce TTL are purged (``core.durable.durable_purge``, beat every minute)."""

    client_id = models.CharField(max_length=64, verbose_name=_("client ID"))
    nonce = models.CharField(max_length=64, verbose_name=_("nonce"))
    seen_at = models.DateTimeField(db_index=True, verbose_name=_("seen at"))

    class Meta:
        verbose_name = _("seen nonce")
        verbose_name_plural = _("seen nonces")
        constraints = [models.UniqueConstraint(fields=["client_id", "nonce"], name="core_seennonce_unique")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.seen_at:%Y-%m-%dT%H:%M:%S}"


class AttemptWindow(models.Model):
    """A fixed window of failed sign-in attempts (staff and cardholder lockouts): ``count`` within
    the window ending at ``ends_at``. ``key`` is a keyed hash (never a username or certno). In the
    database rather than the cache so a lost cache does not reset a lockout
    (``core.durable.attempt_window_add``)."""

    key = models.CharField(max_length=120, unique=True, verbose_name=_("key"))
    count = models.IntegerField(default=0, verbose_name=_("count"))
    ends_at = models.DateTimeField(db_index=True, verbose_name=_("ends at"))

    class Meta:
        verbose_name = _("attempt window")
        verbose_name_plural = _("attempt windows")

    def __str__(self) -> str:
        return f"{self.count} until {self.ends_at:%Y-%m-%dT%H:%M:%S}"
