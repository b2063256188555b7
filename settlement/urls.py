"""Settlement routes under /api/v1/ (spec/hospital-api.md, spec/bureau-api.md)."""

from django.urls import path

from settlement import apis, apis_reference

urlpatterns = [
    path("settlements", apis.SettlementsApi.as_view(), name="settlements"),
    path("settlements/preview", apis.SettlementPreviewApi.as_view(), name="settlement-preview"),
    path("settlements/batch", apis.SettlementBatchApi.as_view(), name="settlement-batch"),
    path("settlements/<str:setl_id>", apis.SettlementDetailApi.as_view(), name="settlement-detail"),
    path(
        "settlements/<str:setl_id>/reversal", apis.SettlementReversalApi.as_view(), name="settlement-reversal"
    ),
    path("persons/lookup", apis.PersonLookupApi.as_view(), name="person-lookup"),
    path("reconciliation/totals", apis.ReconciliationTotalsApi.as_view(), name="reconciliation-totals"),
    path("reconciliation/details", apis.ReconciliationDetailsApi.as_view(), name="reconciliation-details"),
    path("catalogue", apis_reference.CatalogueUploadApi.as_view(), name="catalogue-upload"),
    path("policies", apis_reference.PoliciesUploadApi.as_view(), name="policies-upload"),
    path("accumulators", apis_reference.AccumulatorsUploadApi.as_view(), name="accumulators-upload"),
]
