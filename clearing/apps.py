from django.apps import AppConfig


class ClearingConfig(AppConfig):
    name = "clearing"
    verbose_name = "Clearing: cycles, netting, prefunds, statements, disputes"

    def ready(self) -> None:
        from clearing import metrics

        metrics.register()
