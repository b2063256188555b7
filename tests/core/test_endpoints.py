"""Health, readiness, OpenAPI schema and docs (issue 2 §7)."""
from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.core.test_signed_requests import assert_problem

pytestmark = pytest.mark.django_db


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.content
    checks = resp.json()["checks"]
    assert checks["database"] == "ok"
    assert ("redis" in checks) == bool(settings.REDIS_URL)
    assert all(v == "ok" for v in checks.values())


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError, connection

    def down(*a, **kw):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    resp = client.get("/readyz", HTTP_ACCEPT_LANGUAGE="en")  # the English detail names the check
    assert_problem(resp, 503, "service_unavailable")
    assert "database" in resp.json()["detail"]
    assert int(resp["Retry-After"]) > 0


def test_readyz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    resp = client.get("/readyz", HTTP_ACCEPT_LANGUAGE="en")
    assert_problem(resp, 503, "service_unavailable")
    body = resp.json()
    assert body["detail"] == "Not ready: redis unavailable."  # words, not a Python dict repr
    assert body["checks"]["redis"] == "unavailable" and body["checks"]["database"] == "ok"


def _schema(client) -> dict:
    resp = client.get("/api/schema/", {"format": "json"})
    assert resp.status_code == 200
    return json.loads(resp.content)


def test_schema_is_openapi_3_and_documents_whoami(client):
    schema = _schema(client)
    assert schema["openapi"].startswith("3.")
    whoami = schema["paths"]["/api/v1/whoami"]
    assert set(whoami) >= {"get", "post"}
    ref = whoami["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    props = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert ref.endswith("/WhoAmIOutput")
    assert set(props) == {"role", "actor", "admdvs", "fixmedins_code"}
    security = schema["components"]["securitySchemes"]
    assert set(security) >= {"institutionSignature", "bearerToken"}


def test_schema_default_format_is_yaml(client):
    resp = client.get("/api/schema/")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"openapi: 3." in resp.content


def test_docs_page_uses_the_sidecar_and_no_cdn(client):
    resp = client.get("/api/docs/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert not re.search(r"cdn|jsdelivr|unpkg|cdnjs|googleapis", html, re.I)
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert any("swagger-ui-bundle" in a for a in assets), assets
    for asset in assets:
        assert finders.find(asset), f"{asset} is not shipped in the project's static files"
    assert "/api/schema/" in html


def test_schema_generates_without_warnings():
    """Nested Input/Output serializers of different APIs get distinct component names."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    names = set(json.loads(out.getvalue())["components"]["schemas"])
    assert "Output" not in names and "InputRequest" not in names


def test_docs_assets_are_served_by_the_application(client):
    """Without DEBUG and behind gunicorn too: the page needs no CDN and no separate web server."""
    resp = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith(("text/javascript", "application/javascript"))
    assert client.get("/static/no-such-file.js").status_code == 404


def test_schema_documents_the_platform_errors_as_problem_json(client):
    schema = _schema(client)
    post = schema["paths"]["/api/v1/whoami"]["post"]["responses"]
    get = schema["paths"]["/api/v1/whoami"]["get"]["responses"]
    assert set(post) == {"200", "400", "401", "403", "406", "413", "415", "429", "503"}  # no business rule
    assert set(get) == {"200", "400", "401", "403", "406", "429", "503"}
    problem = post["503"]["content"]["application/problem+json"]["schema"]["$ref"]
    assert problem == "#/components/schemas/ProblemDetails"
    props = schema["components"]["schemas"]["ProblemDetails"]["properties"]
    assert set(props) == {"type", "title", "status", "detail", "code", "errors"}
    keys = schema["paths"]["/api/v1/keys"]["get"]["responses"]
    assert "403" not in keys and "401" not in keys  # open to anyone, no authentication runs


def test_every_error_response_of_the_schema_is_problem_json(client):
    """Issue 10 item 9: 35 error responses of 15 operations (auth/token, cardholder/*, me/*, filings*,
    persons*) had no media type; every 4xx/5xx of every operation is now ProblemDetails as
    application/problem+json, and a view that declares an error otherwise cannot undo it."""
    schema = _schema(client)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    errors = {(path, method, status): response.get("content")
              for path, item in schema["paths"].items() for method, op in item.items()
              for status, response in op["responses"].items() if int(status) >= 400}
    assert len(errors) > 400
    assert {key: content for key, content in errors.items() if content != problem} == {}
    assert errors[("/api/v1/auth/token", "post", "401")] == problem
    assert errors[("/api/v1/persons/{psn_no}/account-credits", "post", "422")] == problem
