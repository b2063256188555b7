"""Throttling per client and per user (spec/security.md §Limits): 429 with Retry-After."""
from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.principals import Principal


class PrincipalRateThrottle(SimpleRateThrottle):
    """One bucket per authenticated principal (institution client, staff user, cardholder), else
    per client address. Rate from ``THROTTLE_RATE`` (default 6000/min), read from the settings at
    each request so that an override (tests, ``override_settings``) takes effect."""

    scope = "principal"

    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates.get(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = request.user
        ident = user.pk if isinstance(user, Principal) else self.get_ident(request)
        return f"throttle:{self.scope}:{ident}"
