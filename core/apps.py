from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform: audit, auth, errors"

    def ready(self) -> None:
        from core import schema  # noqa: F401 - registers the OpenAPI authentication schemes
