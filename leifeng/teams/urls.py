from django.urls import path

from leifeng.teams import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="team_list"),
    path("mine/", views.my_teams, name="my_teams"),
    path("new/", views.team_create, name="team_create"),
    path("<int:pk>/", views.team_detail, name="team_detail"),
    path("<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("<int:pk>/leaders/", views.team_leaders, name="team_leaders"),
    path("<int:pk>/join/", views.team_join, name="team_join"),
    path("<int:pk>/leave/", views.team_leave, name="team_leave"),
    path("<int:pk>/members/add/", views.members_add, name="members_add"),
    path("<int:pk>/members/<int:membership_id>/approve/", views.membership_approve, name="membership_approve"),
    path("<int:pk>/members/<int:membership_id>/reject/", views.membership_reject, name="membership_reject"),
    path("<int:pk>/members/<int:membership_id>/remove/", views.membership_remove, name="membership_remove"),
]
