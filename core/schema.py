"""OpenAPI generation: component names for nested serializers, and the two authentication schemes
(spec/security.md) so that ``/api/schema/`` says how each endpoint is called.

The extensions register on import (:class:`core.apps.CoreConfig` imports this module);
:class:`AutoSchema` is ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names components after the API class for nested serializers (STYLE.md: every API has its own
    ``InputSerializer``/``OutputSerializer``): ``WhoAmIApi.OutputSerializer`` → ``WhoAmIOutput``,
    instead of dozens of clashing ``Output`` components."""

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
