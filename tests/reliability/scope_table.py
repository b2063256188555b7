"""The expectation table of spec/security.md §Scopes: every endpoint of the OpenAPI schema × every
role group → the statuses it may answer (issue 7 §3).

Role groups (see ``conftest.role_group``): ``inst_owner`` (the Shanghai hospital that settled
``setl_a``/``setl_c``), ``inst_other`` (every other example institution), ``bureau_payer`` (340000),
``bureau_payee`` (310000), ``bureau_other`` (440000, unrelated), ``staff`` (clearing_staff),
``card_owner`` (甲, whose settlements they are), ``card_other`` (every other example cardholder),
``acceptor`` (the Shanghai metro's client, spec/cards.md), ``card_bureau`` (340000, the issuer of
甲's card), ``card_desk`` (a Shanghai desk), ``anon``.

Each request is valid for the role the spec allows, so an allowed role gets its success status and
a refused one the refusal: 401 anonymous, 403 wrong role, 404 a record outside the caller's scope
("404 where saying 403 would reveal that a record exists"). Each call runs in a savepoint that is
rolled back, so the calls do not disturb each other.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from tests.reliability.bills import PERSONS, bill, now_iso

GROUPS = (
    "inst_owner",
    "inst_other",
    "bureau_payer",
    "bureau_payee",
    "bureau_other",
    "staff",
    "card_owner",
    "card_other",
    "acceptor",
    "card_bureau",
    "card_desk",
    "anon",
)
INST = ("inst_owner", "inst_other")
BUREAUS = ("bureau_payer", "bureau_payee", "bureau_other")
CARDS = ("card_owner", "card_other")
GONE = (403, 404)  # out of scope: 403, or 404 where 403 would reveal that the record exists
CARD_CLOSED = 200  # the card scheme's cycle of the world's day is closed (conftest._card_world)


def expect(ok: dict[str, Any], *, default: Any = 403, anon: Any = 401) -> dict[str, frozenset[int]]:
    """``ok`` maps a group (or a tuple of groups) to a status or a tuple of statuses; every other
    group gets ``default`` and anonymous callers ``anon``."""
    out: dict[str, frozenset[int]] = {}
    for g in GROUPS:
        out[g] = _set(anon if g == "anon" else default)
    for groups, statuses in ok.items():
        for g in (groups,) if isinstance(groups, str) else groups:
            out[g] = _set(statuses)
    return out


def _set(v: Any) -> frozenset[int]:
    return frozenset(v) if isinstance(v, (tuple, list, set, frozenset)) else frozenset([v])


OWNER_PSN = "34010000000000000001"
OWNER_CERT = PERSONS[OWNER_PSN][0]


def table(w: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, frozenset[int]]]]:
    """``(method, schema path) -> (concrete path, body, expectations)`` for the world ``w``."""
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    year = today.year
    d = w.clr_date
    tok = secrets.token_hex(4)
    cert_lookup = {"mdtrt_cert_type": "02", "mdtrt_cert_no": OWNER_CERT, "card_sn": None}
    posting = {"amount": "10.00", "value_date": today.isoformat(), "reference": f"G-{tok}"}
    owner_row = {
        "psn_no": OWNER_PSN,
        "psn_cert_type": "01",
        "certno": OWNER_CERT,
        "psn_name": PERSONS[OWNER_PSN][1],
        "gend": "1",
        "brdy": "1980-01-01",
        "insutype": "310",
        "insuplc_admdvs": "340100",
        "psn_insu_stas": "1",
        "card_no": PERSONS[OWNER_PSN][2],
        "card_sn": PERSONS[OWNER_PSN][3],
        "acct_balc": "500.00",
    }
    staff_read = {BUREAUS: 200, "staff": 200}
    t: dict[tuple[str, str], tuple[str, Any, dict[str, frozenset[int]]]] = {
        # --- public ---------------------------------------------------------------------------
        ("GET", "/api/v1/keys"): ("/api/v1/keys", None, expect({}, default=200, anon=200)),
        ("GET", "/api/v1/keys/{key_id}.pem"): (
            f"/api/v1/keys/{w.key_id}.pem",
            None,
            expect({}, default=200, anon=200),
        ),
        ("POST", "/api/v1/auth/token"): (
            "/api/v1/auth/token",
            {"username": w.staff_username, "password": "wrong-password-xyz"},
            expect({}, default=401, anon=401),
        ),
        ("POST", "/api/v1/cardholder/activate"): (
            "/api/v1/cardholder/activate",
            {"certno": OWNER_CERT, "card_no": "WRONG0001", "password": "Whatever-pass-01"},
            expect({}, default=422, anon=422),
        ),
        ("POST", "/api/v1/cardholder/token"): (
            "/api/v1/cardholder/token",
            {"certno": OWNER_CERT, "password": "wrong-password-01"},
            expect({}, default=(401, 422), anon=(401, 422)),
        ),
        ("GET", "/api/v1/whoami"): ("/api/v1/whoami", None, expect({}, default=200)),
        ("POST", "/api/v1/whoami"): ("/api/v1/whoami", {}, expect({}, default=200)),
        # --- institutions ---------------------------------------------------------------------
        ("POST", "/api/v1/settlements"): (
            "/api/v1/settlements",
            bill(),
            expect({"inst_owner": 201, "inst_other": (201, 422)}),
        ),
        ("GET", "/api/v1/settlements"): ("/api/v1/settlements", None, expect({INST: 200})),
        ("POST", "/api/v1/settlements/preview"): (
            "/api/v1/settlements/preview",
            bill(),
            expect({"inst_owner": 200, "inst_other": (200, 422)}),
        ),
        ("POST", "/api/v1/settlements/batch"): (
            "/api/v1/settlements/batch",
            {"items": [bill()]},
            expect({INST: 200}),
        ),
        ("POST", "/api/v1/settlements/{setl_id}/reversal"): (
            f"/api/v1/settlements/{w.setl_c}/reversal",
            {"medins_setl_id": f"G-R-{tok}", "reason": "test"},
            expect({"inst_owner": 201, "inst_other": 404}),
        ),
        ("GET", "/api/v1/settlements/{setl_id}"): (
            f"/api/v1/settlements/{w.setl_a}",
            None,
            expect(
                {
                    "inst_owner": 200,
                    "inst_other": 404,
                    "bureau_payer": 200,
                    "bureau_payee": 200,
                    "bureau_other": GONE,
                    "staff": 200,
                }
            ),
        ),
        ("POST", "/api/v1/persons/lookup"): ("/api/v1/persons/lookup", cert_lookup, expect({INST: 200})),
        ("POST", "/api/v1/reconciliation/totals"): (
            "/api/v1/reconciliation/totals",
            {
                "stmt_begndate": d,
                "stmt_enddate": d,
                "insutype": "310",
                "clr_type": "21",
                "medfee_sumamt": "12.50",
                "fund_pay_sumamt": "0.00",
                "acct_pay": "12.50",
                "fixmedins_setl_cnt": 1,
            },
            expect({INST: 200}),
        ),
        ("POST", "/api/v1/reconciliation/details"): (
            "/api/v1/reconciliation/details",
            {"stmt_begndate": d, "stmt_enddate": d, "items": []},
            expect({INST: 200}),
        ),
        # --- bureau reference data --------------------------------------------------------------
        ("POST", "/api/v1/persons"): ("/api/v1/persons", [owner_row], expect({BUREAUS: 200})),
        ("GET", "/api/v1/persons/{psn_no}"): (
            f"/api/v1/persons/{OWNER_PSN}",
            None,
            expect({"bureau_payer": 200, "bureau_payee": GONE, "bureau_other": GONE, "staff": 200}),
        ),
        ("POST", "/api/v1/persons/{psn_no}/account-credits"): (
            f"/api/v1/persons/{OWNER_PSN}/account-credits",
            posting,
            expect({"bureau_payer": 201, "bureau_payee": GONE, "bureau_other": GONE}),
        ),
        ("GET", "/api/v1/filings"): (
            f"/api/v1/filings?psn_no={OWNER_PSN}",
            None,
            expect(
                {
                    "bureau_payer": 200,
                    "bureau_payee": (200, 403, 404),
                    "bureau_other": (200, 403, 404),
                    "staff": 200,
                }
            ),
        ),
        ("POST", "/api/v1/filings"): (
            "/api/v1/filings",
            [
                {
                    "psn_no": OWNER_PSN,
                    "filing_type": "21",
                    "mdtrtarea_admvs": "320000",
                    "begndate": today.isoformat(),
                    "enddate": (today + dt.timedelta(days=30)).isoformat(),
                }
            ],
            expect({"bureau_payer": (200, 201), ("bureau_payee", "bureau_other"): (200, 403, 404)}),
        ),
        ("DELETE", "/api/v1/filings/{filing_id}"): (
            f"/api/v1/filings/{w.filing_id}",
            None,
            expect({"bureau_payer": 200, ("bureau_payee", "bureau_other"): GONE}),
        ),
        ("POST", "/api/v1/catalogue"): (
            "/api/v1/catalogue",
            [
                {
                    "admdvs": "340000",
                    "med_list_codg": f"GT{tok}",
                    "med_list_name": "测试",
                    "list_type": "101",
                    "chrgitm_lv": "01",
                    "selfpay_prop": "0",
                    "pric_uplmt_amt": "",
                    "begndate": "2020-01-01",
                    "enddate": "2099-12-31",
                }
            ],
            expect({BUREAUS: 200}),
        ),
        ("POST", "/api/v1/policies"): (
            "/api/v1/policies",
            [
                {
                    "insuplc_admdvs": "340000",
                    "insutype": "390",
                    "med_type_group": "outpatient",
                    "hosp_lv": "3",
                    "deductible": "100.00",
                    "deductible_basis": "year",
                    "pool_prop": "0.50",
                    "annual_cap": "1000.00",
                    "temp_prop_reduction": "0.10",
                    "begndate": "2020-01-01",
                    "enddate": "2099-12-31",
                }
            ],
            expect({BUREAUS: 200}),
        ),
        ("POST", "/api/v1/accumulators"): (
            "/api/v1/accumulators",
            [
                {
                    "psn_no": OWNER_PSN,
                    "year": str(year + 1),
                    "insutype": "310",
                    "med_type_group": "outpatient",
                    "deductible_used": "0.00",
                    "fund_paid": "0.00",
                }
            ],
            expect({BUREAUS: 200}),
        ),
        # --- cycles, statements, items ----------------------------------------------------------
        ("GET", "/api/v1/cycles"): ("/api/v1/cycles", None, expect(staff_read | {"card_bureau": 200})),
        ("GET", "/api/v1/cycles/{clr_date}"): (
            f"/api/v1/cycles/{d}",
            None,
            expect(staff_read | {"card_bureau": 200}),  # the card scheme's cycle of the day
        ),
        ("GET", "/api/v1/cycles/{clr_date}/head.json"): (
            f"/api/v1/cycles/{d}/head.json",
            None,
            expect(staff_read | {"card_bureau": CARD_CLOSED}),
        ),
        ("GET", "/api/v1/cycles/{clr_date}/head.sig"): (
            f"/api/v1/cycles/{d}/head.sig",
            None,
            expect(staff_read | {"card_bureau": CARD_CLOSED}),
        ),
        ("GET", "/api/v1/cycles/{clr_date}/statement"): (
            f"/api/v1/cycles/{d}/statement",
            None,
            expect(
                {("bureau_payer", "bureau_payee"): 200, "bureau_other": (200, 404), "staff": 400,
                 "card_bureau": CARD_CLOSED}
            ),
        ),
        ("GET", "/api/v1/cycles/{clr_date}/statement.json"): (
            f"/api/v1/cycles/{d}/statement.json",
            None,
            expect(
                {("bureau_payer", "bureau_payee"): 200, "bureau_other": (200, 404), "staff": 400,
                 "card_bureau": CARD_CLOSED}
            ),
        ),
        ("GET", "/api/v1/cycles/{clr_date}/statement.sig"): (
            f"/api/v1/cycles/{d}/statement.sig",
            None,
            expect(
                {("bureau_payer", "bureau_payee"): 200, "bureau_other": (200, 404), "staff": 400,
                 "card_bureau": CARD_CLOSED}
            ),
        ),
        ("POST", "/api/v1/cycles/{clr_date}/statement/ack"): (
            f"/api/v1/cycles/{d}/statement/ack",
            {},
            expect(
                {("bureau_payer", "bureau_payee"): (200, 201), "bureau_other": (200, 201, 404, 409),
                 "card_bureau": (200, 201)}
            ),
        ),
        ("POST", "/api/v1/cycles/{clr_date}/close"): (
            f"/api/v1/cycles/{d}/close",
            {},
            expect({"staff": 200}),
        ),
        ("GET", "/api/v1/cycles/{clr_date}/items"): (
            f"/api/v1/cycles/{d}/items",
            None,
            expect(staff_read | {"card_bureau": 200}),
        ),
        ("GET", "/api/v1/cycles/{clr_date}/items/{setl_id}/proof"): (
            f"/api/v1/cycles/{d}/items/{w.setl_a}/proof",
            None,
            expect({("bureau_payer", "bureau_payee", "staff"): 200, ("bureau_other", "card_bureau"): GONE}),
        ),
        # --- prefunds, alerts, disputes -----------------------------------------------------------
        ("GET", "/api/v1/prefunds"): ("/api/v1/prefunds", None, expect(staff_read | {"card_bureau": 200})),
        ("POST", "/api/v1/prefunds/{admdvs}/deposits"): (
            "/api/v1/prefunds/340000/deposits",
            posting,
            expect({"staff": 201}),
        ),
        ("POST", "/api/v1/prefunds/{admdvs}/withdrawals"): (
            "/api/v1/prefunds/340000/withdrawals",
            posting,
            expect({"staff": 201}),
        ),
        ("GET", "/api/v1/alerts"): ("/api/v1/alerts", None, expect(staff_read | {"card_bureau": 200})),
        ("GET", "/api/v1/disputes"): ("/api/v1/disputes", None, expect(staff_read | {"card_bureau": 200})),
        ("POST", "/api/v1/disputes"): (
            "/api/v1/disputes",
            {"setl_id": w.setl_a, "reason_code": "not_covered", "note": "again"},
            # the payer passes the scope gate and meets the one-dispute-per-item rule; a card
            # bureau finds no medical item
            expect({"bureau_payer": 409, ("bureau_payee", "bureau_other", "card_bureau"): GONE}),
        ),
        ("POST", "/api/v1/disputes/{dispute_id}/escalate"): (
            f"/api/v1/disputes/{w.dispute_id}/escalate",
            {},
            expect({("bureau_payer", "bureau_payee"): 200, ("bureau_other", "card_bureau"): GONE}),
        ),
        ("POST", "/api/v1/disputes/{dispute_id}/resolve"): (
            f"/api/v1/disputes/{w.dispute_id}/resolve",
            {"outcome": "rejected", "note": "no"},
            # staff decide only once escalated: this one is open
            expect(
                {"bureau_payee": 200, "bureau_payer": 403, ("bureau_other", "card_bureau"): GONE,
                 "staff": (403, 409, 422)}
            ),
        ),
        # --- cardholders ----------------------------------------------------------------------------
        ("GET", "/api/v1/me"): ("/api/v1/me", None, expect({CARDS: 200})),
        ("GET", "/api/v1/me/settlements"): ("/api/v1/me/settlements", None, expect({CARDS: 200})),
        ("GET", "/api/v1/me/accumulators"): ("/api/v1/me/accumulators", None, expect({CARDS: 200})),
        ("GET", "/api/v1/me/settlements/{setl_id}/receipt"): (
            f"/api/v1/me/settlements/{w.setl_a}/receipt",
            None,
            expect({"card_owner": 200, "card_other": 404}),
        ),
        ("POST", "/api/v1/me/password"): (
            "/api/v1/me/password",
            {"old": "Reliability-pass-01", "new": "Another-pass-0002"},
            expect({CARDS: 204}),
        ),
        ("POST", "/api/v1/cardholder/logout"): ("/api/v1/cardholder/logout", {}, expect({CARDS: 204})),
        ("POST", "/api/v1/auth/logout"): ("/api/v1/auth/logout", {}, expect({BUREAUS: 204, "staff": 204})),
    }
    _ = now_iso  # (dates above are business days of Asia/Shanghai)
    t.update(card_table(w, tok))
    return t


def card_table(w: Any, tok: str) -> dict[tuple[str, str], tuple[str, Any, dict[str, frozenset[int]]]]:
    """The card endpoints (spec/cards.md §Security and audit)."""
    owner_card, owner_cert = "A34000001", OWNER_CERT
    reader = {("acceptor", "card_bureau", "staff"): 200}
    v = w.list_version
    row = {"card_no": "A34000099", "card_sn": "4" * 32, "certno": owner_cert, "psn_name": "示例甲",
           "issuer_admdvs": "340100", "card_gen": "3", "issue_date": "2024-01-01",
           "valid_until": "2033-12-31", "card_stas": "active"}
    use = {"acpt_serial": f"G-{tok}", "card_no": "A32000002", "card_sn": "0b7e2d41c9a34f6e8d1a5c3b7e9f2a62",
           "svc_type": "transit_fare", "used_at": now_iso(), "mode": "online", "list_amt": "4.00",
           "amt": "4.00", "pay_src": "epurse"}
    return {
        ("GET", "/api/v1/cards"): ("/api/v1/cards", None, expect({("card_bureau", "staff"): 200})),
        ("POST", "/api/v1/cards"): ("/api/v1/cards", [row], expect({"card_bureau": 200, "staff": 403})),
        ("POST", "/api/v1/cards/applications"): (
            "/api/v1/cards/applications",
            {"card_no": "A34000098", "certno": "340102199003160016", "psn_name": "示例新",
             "issuer_admdvs": "340100", "reference": f"G-{tok}"},
            expect({("card_bureau", "card_desk"): 201}),
        ),
        ("GET", "/api/v1/cards/{card_no}"): (
            f"/api/v1/cards/{owner_card}?certno={owner_cert}",
            None,
            expect({("card_bureau", "card_desk", "staff"): 200}),
        ),
        ("POST", "/api/v1/cards/{card_no}/status"): (
            f"/api/v1/cards/{owner_card}/status",
            {"to": "temp_lost", "reason": "scope", "reference": f"G-{tok}", "certno": owner_cert},
            expect({("card_bureau", "card_desk"): 200}),
        ),
        ("POST", "/api/v1/cards/{card_no}/replace"): (
            f"/api/v1/cards/{owner_card}/replace",
            {"new_card_no": "A34000097", "new_card_sn": "7" * 32, "reason": "damaged",
             "reference": f"G-{tok}", "certno": owner_cert},
            expect({("card_bureau", "card_desk"): 201}),
        ),
        ("POST", "/api/v1/card-benefits"): (
            "/api/v1/card-benefits",
            [{"admdvs": "340100", "svc_type": "loan", "min_age": "70", "max_age": "", "benefit_code": "x",
              "pay_prop": "0", "begndate": "2026-01-01", "enddate": ""}],
            expect({"card_bureau": 200}),
        ),
        ("GET", "/api/v1/deny-list"): ("/api/v1/deny-list", None, expect(reader)),
        ("GET", "/api/v1/deny-list.json"): ("/api/v1/deny-list.json", None, expect(reader)),
        ("GET", "/api/v1/deny-list.sig"): ("/api/v1/deny-list.sig", None, expect(reader)),
        ("GET", "/api/v1/deny-list/delta"): (f"/api/v1/deny-list/delta?since={v}", None, expect(reader)),
        ("GET", "/api/v1/deny-list/delta.json"): (f"/api/v1/deny-list/delta.json?since={v}", None,
                                                  expect(reader)),
        ("GET", "/api/v1/deny-list/delta.sig"): (f"/api/v1/deny-list/delta.sig?since={v}", None,
                                                 expect(reader)),
        ("POST", "/api/v1/card-acceptances"): ("/api/v1/card-acceptances", use,
                                               expect({"acceptor": 201, ("card_bureau", "staff"): 403})),
        ("GET", "/api/v1/card-acceptances"): ("/api/v1/card-acceptances", None, expect(reader)),
        ("POST", "/api/v1/card-acceptances/batch"): ("/api/v1/card-acceptances/batch", {"items": [use]},
                                                     expect({"acceptor": 200})),
        ("GET", "/api/v1/card-acceptances/{acpt_id}"): (
            f"/api/v1/card-acceptances/{w.acpt_id}", None, expect(reader)),
        ("POST", "/api/v1/card-acceptances/{acpt_id}/reversal"): (
            f"/api/v1/card-acceptances/{w.acpt_id}/reversal",
            {"acpt_serial": f"G-R-{tok}", "reason": "scope"},
            expect({"acceptor": 201})),
        ("GET", "/api/v1/me/cards"): ("/api/v1/me/cards", None, expect({CARDS: 200})),
        ("POST", "/api/v1/me/cards/{card_no}/temporary-loss"): (
            f"/api/v1/me/cards/{owner_card}/temporary-loss", {"reference": f"G-{tok}"},
            expect({"card_owner": 200, "card_other": 404})),
        ("GET", "/api/v1/me/card-usage"): ("/api/v1/me/card-usage", None, expect({CARDS: 200})),
        ("GET", "/api/v1/me/card-usage/{acpt_id}/receipt"): (
            f"/api/v1/me/card-usage/{w.acpt_id}/receipt", None,
            expect({"card_owner": 409, "card_other": 404})),
    }


def card_dispute_calls(w: Any) -> list[tuple[str, str, str, Any, dict[str, frozenset[int]]]]:
    """The dispute endpoints on the card scheme's dispute of the world (spec/cards.md §The card
    scheme's clearing): ``(method, schema path, concrete path, body, expectations)``. The card
    bureau of 340000 is the dispute's payer (issuer of 甲's card); medical bureaus find nothing of
    the card scheme (404), other roles are refused (403)."""
    acpt, dispute = w.card_acpt_id, w.card_dispute_id
    return [
        ("GET", "/api/v1/disputes", "/api/v1/disputes?scheme=card", None,
         expect({("card_bureau", "staff"): 200, BUREAUS: 403})),
        ("POST", "/api/v1/disputes", "/api/v1/disputes",
         {"acpt_id": acpt, "reason_code": "card_denied_missed", "note": "again"},
         # the issuer passes the scope gate and meets the one-dispute-per-item rule
         expect({"card_bureau": 409, BUREAUS: 400})),
        ("POST", "/api/v1/disputes", "/api/v1/disputes", {"acpt_id": acpt, "reason_code": "other"},
         expect({"card_bureau": 409, BUREAUS: 404})),
        ("POST", "/api/v1/disputes/{dispute_id}/escalate", f"/api/v1/disputes/{dispute}/escalate", {},
         expect({"card_bureau": 200, BUREAUS: 404})),
        ("POST", "/api/v1/disputes/{dispute_id}/resolve", f"/api/v1/disputes/{dispute}/resolve",
         {"outcome": "upheld", "note": "no"},
         # the payer may not resolve; staff only once escalated (this one is open)
         expect({"card_bureau": 403, BUREAUS: 404, "staff": 403})),
    ]


def extra_calls(w: Any) -> list[tuple[str, dict[str, frozenset[int]]]]:
    """GETs with filters, formats and ids a caller might use to reach past its scope: the answers
    must stay within it (checked by the personal-data and foreign-record checks of the walk)."""
    d = w.clr_date
    staff_read = {BUREAUS: 200, "staff": 200}
    return [
        (f"/api/v1/settlements?psn_no={OWNER_PSN}", expect({INST: 200})),
        (f"/api/v1/settlements?clr_date={d}&page_size=1000", expect({INST: 200})),
        (
            f"/api/v1/settlements/{w.setl_b}",
            expect({"inst_other": (200, 404), "inst_owner": 404, BUREAUS: GONE, "staff": 200}),
        ),
        (f"/api/v1/cycles/{d}/items?counterparty=320000", expect(staff_read | {"card_bureau": 200})),
        (f"/api/v1/cycles/{d}/items?format=csv", expect(staff_read | {"card_bureau": 200})),
        (f"/api/v1/cycles/{d}/items?kind=settlement", expect(staff_read | {"card_bureau": 200})),
        (
            f"/api/v1/cycles/{d}/items/{w.setl_b}/proof",
            expect({(*BUREAUS, "card_bureau"): GONE, "staff": 200}),
        ),
        (
            f"/api/v1/cycles/{d}/statement?format=csv",
            expect(
                {("bureau_payer", "bureau_payee"): 200, "bureau_other": (200, 404), "staff": 400,
                 "card_bureau": CARD_CLOSED}
            ),
        ),
        (
            f"/api/v1/cycles/{d}/statement?admdvs=340000",
            expect(
                {
                    "bureau_payer": 200,
                    "bureau_payee": (200, 403, 404),
                    "bureau_other": (200, 403, 404),
                    "staff": 200,
                    "card_bureau": CARD_CLOSED,
                }
            ),
        ),
        ("/api/v1/disputes?status=open", expect(staff_read | {"card_bureau": 200})),
        ("/api/v1/filings?psn_no=32010000000000000002", expect({BUREAUS: (200, 403, 404), "staff": 200})),
        ("/api/v1/persons/32010000000000000002", expect({BUREAUS: GONE, "staff": 200})),
        (f"/api/v1/me/settlements/{w.setl_b}/receipt", expect({"card_owner": 404, "card_other": (200, 404)})),
        ("/api/v1/me/settlements?year=2026", expect({CARDS: 200})),
    ]
