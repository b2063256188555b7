from django.apps import AppConfig


class BureauConfig(AppConfig):
    """The bureau dashboard (server-rendered pages for bureau and clearing-house staff) and the
    spreadsheet exports of statements and items. No models of its own."""

    name = "bureau"
    verbose_name = "Bureau dashboard"
