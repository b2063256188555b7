"""OpenAPI generation: component names for nested serializers, and the two authentication schemes
(spec/security.md) so that ``/api/schema/`` says how each endpoint is called.

The extensions register on import (:class:`core.apps.CoreConfig` imports this module);
:class:`AutoSchema` is ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``.
"""
from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.errors import PROBLEM_CONTENT_TYPE, TITLES
from core.permissions import AllowAnyone


class ProblemErrorSerializer(serializers.Serializer):
    """One bad field of a ``400 invalid``: ``{"field": "feedetail[2].pric", "code", "message"}``."""

    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_serializer(component_name="ProblemDetails")
class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details with the stable ``code`` (spec/README.md §Errors); refusals may add
    members (e.g. ``setl_id`` of a ``409 medins_setl_id_conflict``)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]


class AutoSchema(SpectacularAutoSchema):
    """The project's schema generator.

    - Names components after the API class for nested serializers (STYLE.md: every API has its own
      ``InputSerializer``/``OutputSerializer``): ``WhoAmIApi.OutputSerializer`` → ``WhoAmIOutput``,
      instead of dozens of clashing ``Output`` components.
    - Documents the errors the platform itself can answer on an operation, as problem+json, unless
      the view documents that status already: 400 (bad query or body), 401 (missing or wrong
      credentials, also on open endpoints when wrong ones are sent; not where no authentication
      runs), 403 (role; not on endpoints open to anyone), 404 (path
      parameters), 406, 413 and 415 (bodies), 409 and 422 (writes refused by a recorded conflict or a
      business rule), 429 (throttling) and 503 (outage).
    """

    def _platform_error_statuses(self) -> list[int]:
        statuses = [400, 406, 429, 503]
        try:
            open_to_all = any(isinstance(p, (AllowAny, AllowAnyone)) for p in self.view.get_permissions())
        except Exception:  # noqa: BLE001 - a view whose permissions need a real request
            open_to_all = False
        if not open_to_all:
            statuses.append(403)
        if getattr(self.view, "authentication_classes", None) != []:
            statuses.append(401)
        if "{" in self.path:
            statuses.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += [413, 415]
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if writes and getattr(self.view, "business_refusals", True):
            # A write can be refused by a business rule or a recorded conflict; a view with no such
            # rule (``business_refusals = False``) says so.
            statuses += [409, 422]
        return sorted(statuses)

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        """The view's responses plus the platform's errors; every error (4xx/5xx) answered as
        ``application/problem+json`` with ``ProblemDetails``, whatever the view declared for it
        (spec/README.md §Errors: every error is problem+json), keeping the view's description."""
        bodies = super()._get_response_bodies(direction)
        for platform_status in self._platform_error_statuses():
            bodies.setdefault(str(platform_status), {"description": TITLES.get(platform_status, "")})
        for code, declared in bodies.items():
            if code.isdigit() and int(code) >= 400:
                response = self._get_response_for_code(
                    ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
                response["description"] = declared.get("description") or TITLES.get(int(code), "")
                bodies[code] = response
        return bodies

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        parts = type(serializer).__qualname__.split(".")
        if len(parts) == 1:
            return parts[0]
        outer = [p.removesuffix("Api").removesuffix("View").removesuffix("Serializer") for p in parts[:-1]]
        return "".join(outer) + parts[-1]


class SignedRequestScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.SignedRequestAuthentication"
    name = "institutionSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey", "in": "header", "name": "X-Signature",
            "description": (
                "Institution clients: X-Client-Id, X-Timestamp (Unix seconds), X-Nonce (16-64 of "
                "[A-Za-z0-9_-]) and X-Signature = lowercase hex HMAC-SHA256(secret, METHOD \\n path?query "
                "\\n X-Timestamp \\n X-Nonce \\n hex SHA-256 of the body)."
            ),
        }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer",
                "description": "Staff (POST /api/v1/auth/token) and cardholder tokens; they expire."}
