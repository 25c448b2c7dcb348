from django.urls import path  # noqa: F401

from leifeng.hours import views  # noqa: F401

app_name = "hours"
urlpatterns: list = []
