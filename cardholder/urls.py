"""Cardholder API routes under ``/api/v1/`` (spec/cardholder-api.md)."""
from django.urls import path

from cardholder import apis

urlpatterns = [
    path("cardholder/activate", apis.ActivateApi.as_view(), name="cardholder-activate"),
    path("cardholder/token", apis.TokenApi.as_view(), name="cardholder-token"),
    path("cardholder/logout", apis.LogoutApi.as_view(), name="cardholder-logout"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("me/password", apis.PasswordApi.as_view(), name="me-password"),
    path("me/settlements", apis.SettlementsApi.as_view(), name="me-settlements"),
    path("me/accumulators", apis.AccumulatorsApi.as_view(), name="me-accumulators"),
    path("me/settlements/<str:setl_id>/receipt", apis.ReceiptApi.as_view(), name="me-receipt"),
]
