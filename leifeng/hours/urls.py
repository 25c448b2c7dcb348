from django.urls import include, path

from leifeng.hours import views  # noqa: F401

app_name = "hours"
urlpatterns: list = [
    # Certificates (志愿服务记录证明) and their public verification page: certificate_urls.py.
    path("certificates/", include("leifeng.hours.certificate_urls")),
]
