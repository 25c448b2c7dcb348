from django.urls import path

from leifeng.teams import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="team_list"),
]
