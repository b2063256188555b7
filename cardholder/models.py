"""Cardholder logins (spec/cardholder-api.md).

A :class:`CardholderLogin` exists once the insured person has activated online access with their
``certno``, ``card_no`` and a password. The password is stored only as a Django password hash.
Bearer tokens are ``accounts.ApiToken`` rows with ``person`` set.
"""
from __future__ import annotations

from django.db import models


class CardholderLogin(models.Model):
    """Online access of one insured person (one-to-one to ``accounts.Person``).

    ``password`` is a Django password hash (``make_password``); ``password_changed_at`` is aware UTC.
    """

    person = models.OneToOneField("accounts.Person", on_delete=models.CASCADE,
                                  related_name="cardholder_login")
    password = models.CharField(max_length=256)
    activated_at = models.DateTimeField()
    password_changed_at = models.DateTimeField()
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"login of {self.person_id}"
