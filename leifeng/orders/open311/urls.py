"""Open311 GeoReport v2 under /open311/v2/ (see leifeng/orders/open311/): the specification fixes these paths."""

from django.urls import re_path

from leifeng.orders.open311 import views as open311

app_name = "open311"
FMT = r"(?P<fmt>json|xml)"
urlpatterns = [
    re_path(rf"^discovery\.{FMT}$", open311.discovery, name="discovery"),
    re_path(rf"^services\.{FMT}$", open311.services_list, name="services"),
    re_path(rf"^services/(?P<code>[^/.]+)\.{FMT}$", open311.service_definition, name="service"),
    re_path(rf"^requests\.{FMT}$", open311.requests_view, name="requests"),
    re_path(rf"^requests/(?P<request_id>[^/.]+)\.{FMT}$", open311.request_detail, name="request"),
]
