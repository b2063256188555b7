"""Bureau dashboard pages under ``/bureau/`` (see ``bureau.views``)."""

from django.urls import path, re_path

from bureau import auth_views, views

D = r"cycles/(?P<clr_date>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    path("", views.dashboard, name="bureau-dashboard"),
    path("signin", auth_views.signin, name="bureau-signin"),
    path("signout", auth_views.signout, name="bureau-signout"),
    re_path(rf"^{D}$", views.cycle, name="bureau-cycle"),
    re_path(rf"^{D}/ack$", views.acknowledge, name="bureau-ack"),
    re_path(rf"^{D}/(?P<what>statement|items)\.(?P<fmt>xlsx|csv)$", views.export, name="bureau-export"),
]
