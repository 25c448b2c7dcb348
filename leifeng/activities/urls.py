from django.urls import include, path

from leifeng.activities import views  # noqa: F401

app_name = "activities"
urlpatterns: list = [
    # iCalendar feeds per node and per volunteer: feed_urls.py.
    path("feeds/", include("leifeng.activities.feed_urls")),
]
