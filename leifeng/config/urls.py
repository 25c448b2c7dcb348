from django.contrib import admin
from django.urls import include, path

from leifeng.config.api import api

# The API first: it takes the burst traffic (check-ins, sign-ups) and resolving it is then one prefix match.
urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("leifeng.home.urls")),
    path("", include("leifeng.core.urls")),
    path("accounts/", include("leifeng.accounts.urls")),
    path("orgs/", include("leifeng.orgs.urls")),
    path("people/", include("leifeng.people.urls")),
    path("teams/", include("leifeng.teams.urls")),
    path("activities/", include("leifeng.activities.urls")),
    path("attendance/", include("leifeng.attendance.urls")),
    path("hours/", include("leifeng.hours.urls")),
    path("orders/", include("leifeng.orders.urls")),
    path("notifications/", include("leifeng.notifications.urls")),
    path("open311/v2/", include("leifeng.orders.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
