"""Card-only holders (spec/cards.md §Changes to other parts; cardholder-api.md): 示例辛 has an
``active`` registry card and no medical person. Activation takes (``certno``, ``card_no``) of that
card, the login is keyed by ``certno``, ``/me`` shows the name and cards only, the medical endpoints
answer empty lists, and the same lockouts guard the one sign-in door."""

from __future__ import annotations

import io
import logging

import pytest

from tests.cardholder.card_world import HOLDER_ONLY
from tests.cardholder.conftest import E1, PASSWORD, post_json
from tests.signing import BearerClient

pytestmark = pytest.mark.django_db


def _activate(client, card_no: str = HOLDER_ONLY["card_no"], certno: str = HOLDER_ONLY["certno"]):  # noqa: ANN001, ANN202
    return post_json(client, "/api/v1/cardholder/activate",
                     {"certno": certno, "card_no": card_no, "password": PASSWORD})


def _token(client, password: str = PASSWORD):  # noqa: ANN001, ANN202
    body = {"certno": HOLDER_ONLY["certno"], "password": password}
    return post_json(client, "/api/v1/cardholder/token", body)


@pytest.fixture
def console(monkeypatch):  # noqa: ANN001, ANN201
    """What the configured (masking) console handler writes during the test."""
    from core.logging import MaskPersonalDataFilter

    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters))
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    monkeypatch.setattr(handler, "level", logging.INFO)
    return stream


def test_card_only_holder_activates_signs_in_and_sees_cards_only(examples, client, console):  # noqa: ANN001
    from accounts.models import ApiToken, Person
    from cardholder.models import CardholderLogin
    from core.crypto import blind_index
    from core.models import AuditRecord

    holder_bidx = blind_index(HOLDER_ONLY["certno"], purpose="certno")
    assert not Person.objects.filter(certno_bidx=holder_bidx).exists()
    resp = _activate(client)
    assert resp.status_code == 201, resp.content
    assert resp.json() == {"psn_no": None, "active": True}
    login = CardholderLogin.objects.get(person__isnull=True)
    assert _activate(client).json()["code"] == "already_active"
    resp = _token(client)
    assert resp.status_code == 200, resp.content
    bearer = BearerClient(resp.json()["token"])
    token = ApiToken.objects.get(holder=login)
    assert (token.person_id, token.user_id) == (None, None)

    me = bearer.get("/api/v1/me")
    assert me.status_code == 200
    body = me.json()
    assert set(body) == {"psn_name", "cards"}
    assert body["psn_name"] == "示例辛"
    assert [(c["card_no"], c["card_stas"], c["issuer_admdvs"], c["certno"]) for c in body["cards"]] == [
        ("A31****08", "active", "310000", "3101**********0313")]
    settlements = bearer.get("/api/v1/me/settlements").json()
    assert (settlements["count"], settlements["results"]) == (0, [])
    assert bearer.get("/api/v1/me/accumulators").json()["results"] == []
    assert bearer.get("/api/v1/me/settlements/S1/receipt").status_code == 404
    cards = bearer.get("/api/v1/me/cards").json()["results"]
    assert [c["card_no"] for c in cards] == ["A31****08"]
    usage = bearer.get("/api/v1/me/card-usage").json()
    assert (usage["count"], usage["results"], usage["next"]) == (0, [], None)

    lost = post_json(bearer.http, "/api/v1/me/cards/A31000008/temporary-loss", {"reference": "APP-1"},
                     HTTP_AUTHORIZATION=f"Bearer {bearer.token}")
    assert lost.status_code == 200, lost.content
    assert (lost.json()["card_no"], lost.json()["card_stas"]) == ("A31****08", "temp_lost")

    # another holder's card is unknown to this one
    other = post_json(bearer.http, "/api/v1/me/cards/A34000001/temporary-loss", {},
                      HTTP_AUTHORIZATION=f"Bearer {bearer.token}")
    assert other.status_code == 404

    actors = set(AuditRecord.objects.filter(role="cardholder").values_list("actor", flat=True))
    assert actors == {f"holder-{login.pk}"}
    dumped = " ".join(str(v) for v in AuditRecord.objects.values_list("detail", "object_id"))
    text = console.getvalue() + dumped
    assert "/api/v1/me/cards/A31****08/temporary-loss 200" in text
    assert HOLDER_ONLY["certno"] not in text and HOLDER_ONLY["card_no"] not in text and "示例辛" not in text


def test_card_only_activation_needs_an_active_card_of_that_certno(examples, client):  # noqa: ANN001
    from cards.services.moves import card_status_request
    from tests.cards.conftest import desk

    assert _activate(client, card_no="A34000001").json()["code"] == "activation_failed"  # someone else's card
    assert _activate(client, card_no="A31000009").json()["code"] == "activation_failed"  # no such card
    card_status_request(principal=desk("310000"), card_no="A31000008", to="temp_lost", reason="t",
                        reference="D-1", certno=HOLDER_ONLY["certno"], card_sn=None)
    resp = _activate(client)  # a listed card does not open online access
    assert (resp.status_code, resp.json()["code"]) == (422, "activation_failed")


def test_card_only_sign_in_has_the_same_lockout(examples, client):  # noqa: ANN001
    assert _activate(client).status_code == 201
    codes = [_token(client, "wrong-password-1").status_code for _ in range(5)]
    assert codes == [401] * 5
    locked = _token(client)
    assert locked.status_code == 429 and locked["Retry-After"]


def test_insured_person_may_activate_with_a_registry_card_too(examples, client):  # noqa: ANN001
    """示例甲 (E1) activates with the number of her registry card, the same as her person's here."""
    resp = post_json(client, "/api/v1/cardholder/activate",
                     {"certno": E1["certno"], "card_no": E1["card_no"], "password": PASSWORD})
    assert resp.status_code == 201 and resp.json()["psn_no"] == E1["psn_no"]
    token = post_json(client, "/api/v1/cardholder/token", {"certno": E1["certno"], "password": PASSWORD})
    bearer = BearerClient(token.json()["token"])
    assert bearer.get("/api/v1/me").json()["psn_no"] == E1["psn_no"]
    assert [c["card_no"] for c in bearer.get("/api/v1/me/cards").json()["results"]] == ["A34****01"]


def test_card_only_login_is_linked_once_the_person_is_loaded(examples, client):  # noqa: ANN001
    """The login is keyed by certno: when a bureau later loads 示例辛 as an insured person, the next
    sign-in links the login to that person, and the medical endpoints fill."""
    from accounts.models import Person
    from cardholder.models import CardholderLogin
    from core.crypto import blind_index, encrypt

    assert _activate(client).status_code == 201
    e1 = Person.objects.get(psn_no=E1["psn_no"])
    person = Person.objects.create(
        psn_no="31010000000000000008", certno_enc=encrypt(HOLDER_ONLY["certno"]),
        certno_bidx=blind_index(HOLDER_ONLY["certno"], purpose="certno"), psn_name_enc=encrypt("示例辛"),
        card_no_enc=encrypt("A31000008"), card_no_bidx=blind_index("A31000008", purpose="card_no"),
        **{f: getattr(e1, f) for f in ("psn_cert_type", "brdy", "gend", "insutype", "psn_insu_stas")},
        insuplc_admdvs="310000")
    resp = _token(client)
    assert resp.status_code == 200
    assert CardholderLogin.objects.get().person_id == person.pk
    me = BearerClient(resp.json()["token"]).get("/api/v1/me").json()
    assert me["psn_no"] == "31010000000000000008"
