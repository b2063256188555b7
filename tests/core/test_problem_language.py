"""problem+json follows the request's language (docs/decisions.md §Languages): zh-hans without an
Accept-Language header, English with ``Accept-Language: en``; title, detail and errors[].message
together, including DRF's own 401 and the middlewares' errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client

from core.problem_texts import CODE_TEXTS, FIELD_TEXTS

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "accounts", "settlement", "clearing", "cardholder", "bureau", "cards")


@pytest.mark.django_db
def test_401_in_chinese_by_default_and_english_on_request():
    zh = Client().get("/api/v1/cycles").json()
    assert (zh["title"], zh["detail"], zh["code"]) == ("未认证", "未提供身份认证信息。", "not_authenticated")
    en = Client().get("/api/v1/cycles", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (en["title"], en["detail"]) == ("Unauthorized", "Authentication credentials were not provided.")


@pytest.mark.django_db
def test_domain_errors_and_field_messages_follow_the_language(staff_client):
    bureau = staff_client("bureau", "320000")
    zh = bureau.get("/api/v1/cycles/2026-01-01").json()
    assert (zh["title"], zh["detail"], zh["code"]) == ("未找到", "未找到。", "not_found")
    en = bureau.get("/api/v1/cycles/2026-01-01", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").json()
    assert (en["title"], en["detail"]) == ("Not Found", "No such cycle.")
    bad = bureau.get("/api/v1/cycles?page_size=0").json()
    assert bad["title"] == "请求错误" and bad["errors"][0]["field"] == "page_size"
    assert bad["errors"][0]["message"] == "该值无效。"
    assert (
        bureau.get("/api/v1/cycles?page_size=0", HTTP_ACCEPT_LANGUAGE="en")
        .json()["errors"][0]["message"]
        .startswith("an integer from 1 to")
    )


@pytest.mark.django_db
def test_middleware_errors_are_in_the_request_language():
    zh = Client().get("/api/v1/cycles?x=%00").json()
    en = Client().get("/api/v1/cycles?x=%00", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["code"] == en["code"] == "invalid" and (zh["title"], en["title"]) == ("请求错误", "Bad Request")


def _raised_codes() -> tuple[set[str], set[str]]:
    """Constant codes passed to DomainError/Conflict/Unauthorized/Forbidden(code=) and
    field_error(field, code, …) anywhere in the apps."""
    problem, field = set(), set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Dict):  # {"field": …, "code": "…", "message": …} written out
                    keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                    if {"field", "code", "message"} <= set(keys):
                        code = node.values[keys.index("code")]
                        if isinstance(code, ast.Constant):
                            field.add(code.value)
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if (
                    name in ("DomainError", "Conflict", "Unauthorized")
                    and node.args
                    and args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    problem.add(node.args[0].value)
                if name == "Forbidden":
                    problem |= {
                        k.value.value
                        for k in node.keywords
                        if k.arg == "code" and isinstance(k.value, ast.Constant)
                    }
                if name == "field_error" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    field.add(node.args[1].value)
    return problem, field


def test_every_raised_code_has_a_localized_text():
    problem, field = _raised_codes()
    assert len(problem) > 40 and len(field) > 20
    assert sorted(problem - set(CODE_TEXTS)) == []
    assert sorted(field - set(FIELD_TEXTS) - set(CODE_TEXTS)) == []
