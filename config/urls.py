"""URL map. API under /api/v1 (spec), schema and docs, health, admin, the bureau dashboard,
the language switch (``/i18n/setlang/``), cardholder pages."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from core.apis import WhoAmIApi
from core.metrics_api import MetricsApi

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", MetricsApi.as_view(), name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("api/v1/whoami", WhoAmIApi.as_view(), name="whoami"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("settlement.urls")),
    path("api/v1/", include("bureau.api_urls")),
    path("api/v1/", include("clearing.urls")),
    path("api/v1/", include("cardholder.urls")),
    path("bureau/", include("bureau.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("cards.urls")),
    path("", include("cardholder.web_urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
