"""Platform API: ``/api/v1/whoami`` (who the service thinks is calling; spec/security.md §Scopes)."""
from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import ROLES, roles
from core.principals import Principal


class WhoAmIApi(APIView):
    """``GET``/``POST /api/v1/whoami`` → ``{"role", "actor", "admdvs", "fixmedins_code"}``.

    Open to every authenticated role (institution client, bureau, clearing_staff, cardholder);
    anonymous callers get ``401``. Changes nothing. A POST body is optional; when present it must be
    JSON (``415 unsupported_media_type`` otherwise, ``400 invalid`` when malformed) and is then
    ignored, so a client can check how it signs a body. Lets a client check its signing or token set-up.
    """

    permission_classes = [roles(*ROLES)]
    business_refusals = False  # no business rule: the schema documents no 409/422
    body_fields = None  # any body that is strict JSON: it is parsed and ignored

    class OutputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=ROLES)
        actor = serializers.CharField(help_text="client_id, username or psn_no (as audited)")
        admdvs = serializers.CharField(allow_null=True, help_text="bureau province; null for other roles")
        fixmedins_code = serializers.CharField(allow_null=True, help_text="a client's institution; else null")

    def _answer(self, request: Request) -> Response:
        principal = cast(Principal, request.user)
        institution = getattr(principal, "institution", None)
        data = {
            "role": principal.role,
            "actor": principal.actor,
            "admdvs": principal.admdvs,
            "fixmedins_code": getattr(institution, "fixmedins_code", None),
        }
        return Response(self.OutputSerializer(data).data)

    @extend_schema(operation_id="whoami_get", responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        return self._answer(request)

    @extend_schema(operation_id="whoami_post", request=None, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        request.data  # noqa: B018 - parse (and so validate) the body like any other endpoint would
        return self._answer(request)
