"""Cardholder web pages at ``/`` (server-rendered; see ``cardholder.views``). Every page answers
with the strict Content-Security-Policy of ``core.headers`` (scripts and styles from our static
files only)."""
from django.urls import path

from cardholder import views
from core.headers import content_security_policy as csp

urlpatterns = [
    path("", csp(views.signin), name="cardholder-signin"),
    path("activate", csp(views.activate), name="cardholder-activate-page"),
    path("signout", csp(views.signout), name="cardholder-signout"),
    path("me/", csp(views.records), name="cardholder-records"),
    path("me/receipts/<str:setl_id>", csp(views.receipt), name="cardholder-receipt"),
]
