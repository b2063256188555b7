"""Cardholder web pages at ``/`` (server-rendered; see ``cardholder.views``)."""
from django.urls import path

from cardholder import views

urlpatterns = [
    path("", views.signin, name="cardholder-signin"),
    path("activate", views.activate, name="cardholder-activate-page"),
    path("signout", views.signout, name="cardholder-signout"),
    path("me/", views.records, name="cardholder-records"),
    path("me/receipts/<str:setl_id>", views.receipt, name="cardholder-receipt"),
]
