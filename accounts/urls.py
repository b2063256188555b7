"""Accounts endpoints under ``/api/v1/`` (spec/security.md §People, spec/bureau-api.md §Reference data).

``persons/lookup`` (hospital-api.md) belongs to settlement's URLs, so the person detail pattern
excludes it."""
from django.urls import path, re_path

from accounts import apis, apis_auth

PSN_NO = r"(?P<psn_no>(?!lookup/?$)[^/]{1,30})"

urlpatterns: list = [
    path("auth/token", apis_auth.StaffTokenApi.as_view(), name="auth-token"),
    path("auth/logout", apis_auth.StaffLogoutApi.as_view(), name="auth-logout"),
    path("persons", apis.PersonsUploadApi.as_view(), name="persons-upload"),
    re_path(rf"^persons/{PSN_NO}$", apis.PersonDetailApi.as_view(), name="person-detail"),
    re_path(rf"^persons/{PSN_NO}/account-credits$", apis.AccountCreditCreateApi.as_view(),
            name="account-credits"),
    path("filings", apis.FilingsApi.as_view(), name="filings"),
    path("filings/<int:filing_id>", apis.FilingRevokeApi.as_view(), name="filing-revoke"),
]
