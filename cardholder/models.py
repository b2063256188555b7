"""Cardholder logins (spec/cardholder-api.md).

A :class:`CardholderLogin` exists once a holder has activated online access with their ``certno``,
``card_no`` and a password: an insured person (``person`` set) or, since the card registry
(spec/cards.md §Changes to other parts, ``cardholder-api.md``), a card-only holder with an
``active`` registry card and no medical person (``person`` empty). Every login is keyed by the blind
index of its ``certno`` (unique). The password is stored only as a Django password hash. Bearer
tokens are ``accounts.ApiToken`` rows with ``holder`` (and ``person`` when there is one) set.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CardholderLogin(models.Model):
    """Online access of one holder, keyed by ``certno_bidx`` (HMAC blind index of the normalised
    ``certno``, purpose ``certno``: the same value as ``accounts.Person.certno_bidx`` and
    ``cards.Card.certno_bidx``; never the clear number).

    ``person``: the insured person, or empty for a card-only holder (linked at the next sign-in
    once a bureau loads a person with that ``certno``). ``password`` is a Django password hash
    (``make_password``); ``password_changed_at`` is aware UTC.
    """

    person = models.OneToOneField("accounts.Person", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="cardholder_login", verbose_name=_("insured person"))
    certno_bidx = models.CharField(max_length=64, unique=True,
                                   verbose_name=_("certificate number (blind index)"))
    password = models.CharField(max_length=256, verbose_name=_("password"))
    activated_at = models.DateTimeField(verbose_name=_("activated at"))
    password_changed_at = models.DateTimeField(verbose_name=_("password changed at"))
    last_login_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last sign-in at"))

    class Meta:
        verbose_name = _("cardholder login")
        verbose_name_plural = _("cardholder logins")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"login {self.pk}"

    @property
    def actor(self) -> str:
        """The audit actor: the ``psn_no`` of an insured person, ``holder-<id>`` of a card-only
        holder (no personal data)."""
        return self.person.psn_no if self.person is not None else f"holder-{self.pk}"
