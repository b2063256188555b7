"""``POST /api/v1/auth/token`` (spec/security.md §People): staff bearer tokens."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.services import staff_token_issue
from accounts.services.access import staff_token_revoke
from core.permissions import AllowAnyone, roles


class LoginRateThrottle(SimpleRateThrottle):
    """Per client address: 30 token requests a minute (besides the per-username lockout)."""

    scope = "login"
    rate = "30/min"

    def get_cache_key(self, request: Request, view: object) -> str:
        return f"throttle:login:{self.get_ident(request)}"


class StrictCharField(serializers.CharField):
    """A JSON string only: numbers, booleans, lists and objects are refused (``400 invalid``) instead
    of being turned into text."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StaffTokenApi(APIView):
    """``POST /api/v1/auth/token``: ``{"username", "password"}`` → ``{"token", "expires_at"}``.

    The token is sent as ``Authorization: Bearer …`` and expires after 12 h. Wrong credentials →
    ``401 invalid_credentials``; 5 failures for a username within 15 min → ``429 too_many_attempts``;
    more than 30 requests a minute from one address → ``429 throttled``; a missing or non-string
    ``username``/``password`` → ``400 invalid`` naming the field.
    """

    authentication_classes: list = []
    permission_classes = [AllowAnyone]
    throttle_classes = [LoginRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(max_length=256, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(operation_id="auth_token_create", request=InputSerializer,
                   responses={200: OutputSerializer, 401: OpenApiResponse(description="invalid_credentials")})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, expires_at = staff_token_issue(**data.validated_data)
        return Response(self.OutputSerializer({"token": token, "expires_at": expires_at}).data)


class StaffLogoutApi(APIView):
    """``POST /api/v1/auth/logout`` (bureau, clearing staff) → ``204``: revokes the calling token
    (later requests with it → ``401 invalid_token``). Audited ``token_revoke``."""

    permission_classes = [roles("bureau", "clearing_staff")]

    @extend_schema(operation_id="auth_logout", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        staff_token_revoke(principal=request.user)
        return Response(status=204)
