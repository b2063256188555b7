from django.apps import AppConfig


class CardsConfig(AppConfig):
    """The social-security card half (spec/cards.md): registry, deny lists, acceptances and the
    card scheme's clearing inputs."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "cards"

    def ready(self) -> None:
        from accounts.selectors import register_card_registry
        from cards.selectors.cards import registry_holders
        from cards.selectors.statements import card_statement_extra
        from cards.services.adjustments import adjustment_acpt_id
        from clearing.schemes import register_adjustment_id, register_statement_extra

        register_statement_extra("card", card_statement_extra)
        register_adjustment_id("card", adjustment_acpt_id)
        register_card_registry(registry_holders)
