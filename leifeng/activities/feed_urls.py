"""iCalendar feeds, included under /activities/feeds/ (names `activities:feed_…`)."""

from django.urls import path

from leifeng.activities import feeds

urlpatterns: list = [
    path("", feeds.feed_links, name="feed_links"),
    path("reset/", feeds.feed_reset, name="feed_reset"),
    path("node/<int:org_id>.ics", feeds.node_feed, name="feed_node"),
    path("mine/<str:token>.ics", feeds.my_feed, name="feed_mine"),
]
