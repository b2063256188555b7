from django.apps import AppConfig


class CardholderConfig(AppConfig):
    name = "cardholder"
    verbose_name = "Cardholders: logins, records, receipts"
