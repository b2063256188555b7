"""Cardholder web pages at ``/`` (server-rendered; see ``cardholder.views``). Every page answers
with the strict Content-Security-Policy of ``core.headers`` (scripts and styles from our static
files only)."""
from django.urls import path

from cardholder import card_views, views
from core.headers import content_security_policy as csp

urlpatterns = [
    path("", csp(views.signin), name="cardholder-signin"),
    path("activate", csp(views.activate), name="cardholder-activate-page"),
    path("signout", csp(views.signout), name="cardholder-signout"),
    path("me/", csp(views.records), name="cardholder-records"),
    path("me/receipts/<str:setl_id>", csp(views.receipt), name="cardholder-receipt"),
    path("me/cards/", csp(card_views.my_cards), name="cardholder-cards"),
    path("me/cards/<int:card_id>/report-lost", csp(card_views.report_lost), name="cardholder-report-lost"),
    path("me/card-usage/", csp(card_views.card_usage), name="cardholder-card-usage"),
    path("me/card-usage/<str:acpt_id>/receipt", csp(card_views.card_receipt), name="cardholder-card-receipt"),
]
