from django.apps import AppConfig


class GatewayConfig(AppConfig):
    """The NHSA national-interface gateway (spec/nhsa-gateway.md): a second door to settlement."""

    name = "gateway"
    default_auto_field = "django.db.models.BigAutoField"
