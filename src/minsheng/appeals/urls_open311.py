"""Open311 GeoReport v2, mounted at /open311/v2/ (see ``open311.py``)."""

from django.urls import URLPattern, re_path

from minsheng.appeals import open311

app_name = "open311"

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns: list[URLPattern] = [
    re_path(r"^discovery" + FORMAT, open311.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, open311.services, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + FORMAT, open311.service_definition, name="service"),
    re_path(r"^requests" + FORMAT, open311.requests, name="requests"),
    re_path(r"^requests/(?P<number>[^/]+?)" + FORMAT, open311.request_detail, name="request"),
    # Anything else is a 404 in the spec's error format, not the site's HTML page.
    re_path(r"^(?P<rest>.*)$", open311.not_found, name="not-found"),
]
