"""Impossible claim dates are 400 invalid naming the field and line (issue 10 item 8;
docs/decisions.md §Claim dates): endtime in the future beyond 300 s, a fee_ocur_time outside
[begntime, endtime], begntime more than 366 days before the settlement. Pure parser tests plus one
through the API (single, preview and a batch item)."""
from __future__ import annotations

import datetime as dt

import pytest

from core.errors import Invalid
from settlement.request_parsing import parse_settlement_request
from tests.adversary.helpers import bill, line

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def _at(**delta: float) -> str:
    return (NOW + dt.timedelta(**delta)).isoformat()


def _errors(body: dict) -> set[tuple[str, str]]:
    with pytest.raises(Invalid) as e:
        parse_settlement_request(body, now=NOW)
    return {(x["field"], x["code"]) for x in e.value.errors}


def _claim(begn: str, end: str | None, *line_times: str) -> dict:
    lines = [line(sn=str(i + 1), at=t) for i, t in enumerate(line_times)]
    return bill(begntime=begn, endtime=end, lines=lines)


def test_endtime_two_days_ahead_is_refused_but_300_s_of_skew_is_not():
    assert _errors(_claim(_at(hours=-5), _at(days=2), _at(hours=-1))) == {("endtime", "in_future")}
    assert _errors(_claim(_at(hours=-5), _at(seconds=301), _at(hours=-1))) == {("endtime", "in_future")}
    req = parse_settlement_request(_claim(_at(hours=-5), _at(seconds=300), _at(hours=-1)), now=NOW)
    assert req.endtime == NOW + dt.timedelta(seconds=300)


def test_fee_times_outside_the_stay_name_their_line():
    body = _claim(_at(days=-3), _at(days=-1), _at(days=-2), _at(days=-13), _at(hours=-20), _at(days=-3))
    assert _errors(body) == {
        ("feedetail[1].fee_ocur_time", "before_begntime"),
        ("feedetail[2].fee_ocur_time", "after_endtime"),
    }
    # without endtime only the lower bound holds; the bounds themselves are inside
    open_stay = _claim(_at(days=-3), None, _at(days=-3), _at(hours=-1))
    assert len(parse_settlement_request(open_stay, now=NOW).lines) == 2


def test_begntime_more_than_366_days_back_is_refused():
    too_old = {("begntime", "too_old")}
    assert _errors(_claim("1990-01-01T08:00:00+08:00", _at(days=-1), _at(days=-2))) == too_old
    assert _errors(_claim(_at(days=-366, seconds=-1), _at(days=-1), _at(days=-2))) == too_old
    assert parse_settlement_request(_claim(_at(days=-366), _at(days=-1), _at(days=-2)), now=NOW).lines


@pytest.mark.django_db
def test_the_api_refuses_them_on_every_door(examples, institution_client):
    from django.utils import timezone

    now = timezone.now()
    ahead = bill(serial="CD-1", endtime=(now + dt.timedelta(days=2)).isoformat())
    early = bill(serial="CD-2", lines=[line(at=(now - dt.timedelta(hours=3)).isoformat())])
    client = institution_client("H31010400001")
    r = client.post("/api/v1/settlements", ahead)
    # field and code are the contract; the message follows the request's language (decisions.md)
    assert r.status_code == 400
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("endtime", "in_future")]
    assert r.json()["errors"][0]["message"]
    r = client.post("/api/v1/settlements/preview", early)
    assert r.status_code == 400
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("feedetail[0].fee_ocur_time", "before_begntime")
    ]
    r = client.post("/api/v1/settlements/batch", {"items": [early, bill(serial="CD-3")]})
    assert [x["status"] for x in r.json()["results"]] == [400, 201]
    assert r.json()["results"][0]["problem"]["errors"][0]["field"] == "feedetail[0].fee_ocur_time"
