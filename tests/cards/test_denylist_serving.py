"""Serving deny lists (spec/cards.md §Deny lists; issue 13 delta target): one query per fetch of a
stored document, the stored bytes in every form, ETag/If-None-Match, a move seen at the next fetch."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards.services.denylist_serving import delta_for, full_for
from cards.services.moves import card_status_request
from cards.services.reference import acceptor_client_create
from tests.cards.conftest import desk
from tests.signing import SignedClient

pytestmark = pytest.mark.django_db


def reader() -> SignedClient:
    client, secret = acceptor_client_create(acceptor_code="T31000000001")
    return SignedClient(client.client_id, secret)


def conditional(c: SignedClient, target: str, etag: str):  # noqa: ANN201
    """A signed GET with ``If-None-Match``."""
    return c.http.get(target, headers={**c.headers("GET", target, b""), "If-None-Match": etag})


def loss(card_no: str, certno: str, ref: str) -> int:
    return card_status_request(
        principal=desk("310000"),
        card_no=card_no,
        to="temp_lost",
        reason="test",
        reference=ref,
        certno=certno,
        card_sn=None,
    ).list_version


def test_a_stored_delta_is_one_query_and_a_move_is_in_the_next_fetch(examples) -> None:  # noqa: ANN001
    base = full_for().version
    first = delta_for(base)
    assert (first.version, first.base_version) == (base, base)
    assert json.loads(first.canonical)["entries"] == []
    with CaptureQueriesContext(connection) as queries:
        again = delta_for(base)
    assert len(queries) == 1 and again == first
    version = loss("A34000001", "340104198001011234", "serve-1")
    assert version == base + 1
    moved = delta_for(base)  # the very next fetch: nothing cached in the process
    doc = json.loads(moved.canonical)
    assert (doc["version"], doc["base_version"], doc["entry_cnt"]) == (version, base, 1)
    assert (doc["entries"][0]["op"], doc["entries"][0]["reason"]) == ("add", "temp_lost")
    assert delta_for(base) == moved  # built once, then the same bytes


def test_envelope_json_sig_and_etags_over_http(examples) -> None:  # noqa: ANN001
    c = reader()
    env = c.get("/api/v1/deny-list")
    assert env.status_code == 200 and env["Cache-Control"] == "private, no-cache"
    body = env.json()
    assert set(body) == {"document", "signature", "key_id"}
    data = c.get("/api/v1/deny-list.json")
    sig = c.get("/api/v1/deny-list.sig")
    assert json.loads(data.content) == body["document"]
    assert base64.b64decode(body["signature"]) == sig.content and len(sig.content) == 64
    assert len({env["ETag"], data["ETag"], sig["ETag"]}) == 3
    not_modified = conditional(c, "/api/v1/deny-list.json", data["ETag"])
    assert (not_modified.status_code, not_modified.content, not_modified["ETag"]) == (304, b"", data["ETag"])
    version = body["document"]["version"]
    pinned = c.get(f"/api/v1/deny-list.json?version={version}")
    assert pinned.content == data.content
    assert pinned["Cache-Control"] == "private, max-age=86400, immutable"
    delta = c.get(f"/api/v1/deny-list/delta?since={version}")
    assert delta.json()["document"]["entries"] == [] and delta["Cache-Control"] == "private, no-cache"
    loss("A34000001", "340104198001011234", "serve-2")
    changed = conditional(c, "/api/v1/deny-list.json", data["ETag"])
    assert changed.status_code == 200 and json.loads(changed.content)["version"] == version + 1
    assert c.get(f"/api/v1/deny-list?version={version + 9}").json()["code"] == "unknown_version"
    assert c.get(f"/api/v1/deny-list/delta?since={version + 9}").json()["code"] == "unknown_version"
