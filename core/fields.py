"""Serializer fields shared by every API (spec/README.md §Units and formats).

- :class:`MoneyField`: ``"125.00"`` in and out; input refuses JSON numbers, other precisions,
  exponents and (unless ``allow_negative``) a minus sign with ``400 invalid`` / ``invalid_money``;
  output is never ``"-0.00"``.
- :class:`RatioField`: Decimal ratio → ``"0.8500"`` (4 places).
- :class:`ImportResultSerializer`: the answer of every upload and ``import_reference`` file.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import fmt_money, fmt_ratio, parse_money


@extend_schema_field({"type": "string", "pattern": r"^-?\d{1,14}\.\d{2}$"})
class MoneyField(serializers.Field):
    """Decimal yuan as a 2-place string."""

    def __init__(self, *, allow_negative: bool = False, **kw: Any) -> None:
        self.allow_negative = allow_negative
        super().__init__(**kw)

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_money(data, allow_negative=self.allow_negative)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_money") from None

    def to_representation(self, value: Any) -> str | None:
        return fmt_money(value)


@extend_schema_field({"type": "string", "pattern": r"^\d\.\d{4}$"})
class RatioField(serializers.Field):
    """Decimal ratio → ``"0.8500"``; read-only."""

    def to_representation(self, value: Any) -> str | None:
        return fmt_ratio(value)


class ImportResultSerializer(serializers.Serializer):
    """``{"received", "created", "updated", "unchanged", "rejected": [{"row", "field", "code"}]}``."""

    class RejectedSerializer(serializers.Serializer):
        row = serializers.IntegerField(help_text="1-based data row (CSV header not counted)")
        field = serializers.CharField()
        code = serializers.CharField()

    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = RejectedSerializer(many=True)
