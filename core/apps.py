from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform: audit, auth, errors"

    def ready(self) -> None:
        from core import checks, schema  # noqa: F401 - registers the deploy checks and the OpenAPI auth schemes
        from core.metrics_api import register_platform_gauges
        from core.tasks_metrics import connect_task_signals

        register_platform_gauges()
        connect_task_signals()
