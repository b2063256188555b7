"""The statement and items endpoints under /api/v1 (JSON as in ``clearing``, plus spreadsheets)."""

from django.urls import re_path

from bureau import apis

D = r"cycles/(?P<clr_date>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    re_path(rf"^{D}/statement$", apis.StatementExportApi.as_view(), name="cycle-statement"),
    re_path(rf"^{D}/items$", apis.ItemExportApi.as_view(), name="cycle-items"),
]
