from django.urls import path  # noqa: F401

from leifeng.activities import views  # noqa: F401

app_name = "activities"
urlpatterns: list = []
