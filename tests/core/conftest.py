"""Fixtures of the platform tests: an institution with a signed client, staff bearer clients."""
from __future__ import annotations

import datetime as dt
import secrets

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.auth import token_hash
from core.crypto import encrypt
from tests.signing import BearerClient, SignedClient

SECRET = "s3cr3t-" + "x" * 40


@pytest.fixture
def institution(db):
    from accounts.models import Institution

    return Institution.objects.create(fixmedins_code="H31010400001", name="Test hospital",
                                      fixmedins_type="1", hosp_lv="3", admdvs="310104")


@pytest.fixture
def api_client(institution):
    """The ``InstitutionClient`` row (secret :data:`SECRET`)."""
    from accounts.models import InstitutionClient

    return InstitutionClient.objects.create(client_id="c-test-0001", institution=institution,
                                            secret_enc=encrypt(SECRET))


@pytest.fixture
def signed(api_client) -> SignedClient:
    return SignedClient(api_client.client_id, SECRET)


@pytest.fixture
def staff_bearer(db):
    """``staff_bearer(role, admdvs)`` → a :class:`BearerClient` for a new staff user."""
    from accounts.models import ApiToken, StaffProfile

    def make(role: str = "bureau", admdvs: str = "310000") -> BearerClient:
        user = get_user_model().objects.create_user(username=f"{role}-{secrets.token_hex(4)}")
        StaffProfile.objects.create(user=user, role=role, admdvs=admdvs)
        token = secrets.token_urlsafe(32)
        ApiToken.objects.create(token_hash=token_hash(token), user=user,
                                expires_at=timezone.now() + dt.timedelta(hours=1))
        return BearerClient(token)

    return make
