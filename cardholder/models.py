"""Cardholder logins (spec/cardholder-api.md).

A :class:`CardholderLogin` exists once the insured person has activated online access with their
``certno``, ``card_no`` and a password. The password is stored only as a Django password hash.
Bearer tokens are ``accounts.ApiToken`` rows with ``person`` set.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CardholderLogin(models.Model):
    """Online access of one insured person (one-to-one to ``accounts.Person``).

    ``password`` is a Django password hash (``make_password``); ``password_changed_at`` is aware UTC.
    """

    person = models.OneToOneField("accounts.Person", on_delete=models.CASCADE,
                                  related_name="cardholder_login", verbose_name=_("insured person"))
    password = models.CharField(max_length=256, verbose_name=_("password"))
    activated_at = models.DateTimeField(verbose_name=_("activated at"))
    password_changed_at = models.DateTimeField(verbose_name=_("password changed at"))
    last_login_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last sign-in at"))

    class Meta:
        verbose_name = _("cardholder login")
        verbose_name_plural = _("cardholder logins")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"login of {self.person_id}"
