"""JSON logs with the request context, certnos masked in every spelling ``normalize_certno`` accepts
(issue 10 §5), ``Cache-Control: no-store`` on every answer we build, a strict CSP on cardholder pages."""
from __future__ import annotations

import io
import json
import logging
import urllib.parse

import pytest
from django.test import Client

from accounts.certno import normalize_certno
from core.logging import JsonFormatter, MaskPersonalDataFilter, mask_text
from core.observability import RequestContextFilter

CERTNO = "340104198001011234"
FULL_WIDTH = "３４０１０４１９８００１０１１２３４"
SPELLINGS = {
    "ascii": CERTNO,
    "full-width digits": FULL_WIDTH,
    "lower-case x": "34010219900215321x",
    "full-width x": "３４０１０２１９９００２１５３２１ｘ",
    "15-digit": "340104800101123",
    "15-digit full-width": "３４０１０４８００１０１１２３",
    "mathematical digits": "𝟑𝟒𝟎𝟏𝟎𝟒𝟏𝟗𝟖𝟎𝟎𝟏𝟎𝟏𝟏𝟐𝟑𝟒",
    "mixed widths": "3401０4198001011234",
    "surrounded by spaces": " 340104198001011234 ",
}


@pytest.mark.parametrize("label", SPELLINGS)
def test_every_accepted_spelling_is_masked_on_its_normalised_form(label):
    raw = SPELLINGS[label]
    normalised = normalize_certno(raw)  # the spelling is one normalize_certno accepts
    masked = mask_text(f"GET /api/v1/persons/{raw} 404")
    expected = normalised[:4] + "*" * (len(normalised.strip()) - 8) + normalised[-4:] \
        if len(raw.strip()) == 18 else None
    body = masked.removeprefix("GET /api/v1/persons/").removesuffix(" 404").strip()
    assert raw.strip() not in masked
    assert body.startswith(normalised[:4]) and "*" in body
    if expected:
        assert body == expected


def test_digits_nfkc_keeps_are_refused_by_normalize_and_still_masked():
    """Arabic-Indic digits are decimal digits NFKC does not fold: normalize_certno refuses them (it
    took 17 of them and an ASCII check digit before, storing non-ASCII digits); logs mask them anyway."""
    from accounts.certno import InvalidCertno

    arabic = "٣٤٠١٠٤١٩٨٠٠١٠١١٢٣" + "4"
    with pytest.raises(InvalidCertno):
        normalize_certno(arabic)
    assert mask_text(f"certno {arabic}") == "certno 3401**********1234"


def test_percent_encoded_full_width_path_is_masked():
    encoded = urllib.parse.quote(FULL_WIDTH)
    assert mask_text(f"GET /api/v1/persons/{encoded}?x=1") == "GET /api/v1/persons/3401**********1234?x=1"


def test_other_numbers_are_left_alone():
    text = "setl_id 20261129121633123456S1a2b3c amount 4160.52 psn_no 34010000000000000001 code 0123456789"
    assert mask_text(text) == text


def _captured(monkeypatch) -> io.StringIO:
    """The configured console handler's stream, replaced by a buffer."""
    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters))
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    return stream


@pytest.mark.django_db
def test_full_width_certno_in_a_path_never_reaches_the_log(monkeypatch, staff_client):
    """Issue 10 §5: ``GET /api/v1/persons/<full-width digits>`` logged the path unmasked."""
    stream = _captured(monkeypatch)
    client = staff_client("bureau", "340000")
    resp = client.get(f"/api/v1/persons/{FULL_WIDTH}")
    assert resp.status_code == 404
    logging.getLogger("kuasheng.test").warning("lookup of %s", FULL_WIDTH)
    out = stream.getvalue()
    assert out, "nothing logged"
    assert FULL_WIDTH not in out and CERTNO not in out
    assert FULL_WIDTH[4:14] not in out
    assert "3401**********1234" in out


@pytest.mark.django_db
def test_json_log_lines_carry_request_context(monkeypatch, staff_client):
    stream = _captured(monkeypatch)
    client = staff_client("clearing_staff", "000000")
    resp = client.http.get("/api/v1/whoami", headers={**client._h(), "X-Request-Id": "req-abc-123"})
    assert resp.status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    access = [r for r in lines if r["logger"] == "kuasheng.http.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-abc-123"
    assert line["principal"].startswith("clearing_staff:")
    assert (line["route"], line["status"], line["level"], line["message"]) == \
        ("api/v1/whoami", 200, "INFO", "GET /api/v1/whoami 200")
    assert isinstance(line["duration_ms"], float) and line["time"].endswith("+00:00")


@pytest.mark.django_db
def test_djangos_own_request_lines_use_the_same_fields(monkeypatch):
    stream = _captured(monkeypatch)
    Client().get("/api/v1/whoami", headers={"X-Request-Id": "req-django-1"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    django_line = next(r for r in lines if r["logger"] == "django.request")
    assert (django_line["status"], django_line["request_id"], django_line["route"]) == \
        (401, "req-django-1", "api/v1/whoami")
    assert "request" not in django_line and "status_code" not in django_line


def test_json_formatter_masks_extra_fields_and_tracebacks():
    formatter = JsonFormatter()
    try:
        raise ValueError(f"bad certno {FULL_WIDTH}")
    except ValueError:
        import sys

        record = logging.LogRecord("kuasheng.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.detail = {"certno": "34010219900215321x"}
    RequestContextFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert line["detail"] == {"certno": "3401**********321X"}
    assert FULL_WIDTH not in line["exc_info"] and "3401**********1234" in line["exc_info"]
    assert (line["request_id"], line["principal"], line["route"]) == ("", "", "")


@pytest.mark.django_db
def test_no_store_on_every_answer_we_build(staff_client):
    answers = {
        "api": staff_client("clearing_staff", "000000").get("/api/v1/whoami"),
        "problem": Client().get("/api/v1/whoami"),
        "unmatched 404": Client().get("/no/such/page"),
        "cardholder page": Client().get("/"),
        "health": Client().get("/healthz"),
    }
    for label, resp in answers.items():
        assert "no-store" in resp["Cache-Control"], label
    static = Client().get("/static/cardholder/site.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


@pytest.mark.django_db
def test_cardholder_pages_have_a_strict_csp_and_nothing_inline(examples):
    for path in ("/", "/activate"):
        resp = Client().get(path)
        csp = resp["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        html = resp.content.decode()
        assert "<script>" not in html and " style=" not in html and "<style" not in html
