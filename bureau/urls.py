"""Bureau dashboard pages under ``/bureau/`` (see ``bureau.views``), each with the strict CSP of the
server-rendered pages (``core.headers.content_security_policy``: no inline script or style)."""

from django.urls import path, re_path

from bureau import auth_views, views
from core.headers import content_security_policy as csp

D = r"cycles/(?P<clr_date>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    path("", csp(views.dashboard), name="bureau-dashboard"),
    path("signin", csp(auth_views.signin), name="bureau-signin"),
    path("signout", csp(auth_views.signout), name="bureau-signout"),
    re_path(rf"^{D}$", csp(views.cycle), name="bureau-cycle"),
    re_path(rf"^{D}/ack$", csp(views.acknowledge), name="bureau-ack"),
    re_path(rf"^{D}/(?P<what>statement|items)\.(?P<fmt>xlsx|csv)$", csp(views.export), name="bureau-export"),
]
