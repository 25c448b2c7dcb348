from django.urls import path

from leifeng.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("add/", views.org_create, name="org_create_root"),
    path("<int:pk>/", views.org_detail, name="org_detail"),
    path("<int:pk>/add/", views.org_create, name="org_create"),
    path("<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("<int:pk>/move/", views.org_move, name="org_move"),
    path("<int:pk>/delete/", views.org_delete, name="org_delete"),
    path("<int:pk>/positions/add/", views.position_create, name="position_create"),
    path("<int:pk>/groups/add/", views.leading_group_create, name="leading_group_create"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/add/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("positions/<int:pk>/edit/", views.position_edit, name="position_edit"),
    path("positions/<int:pk>/delete/", views.position_delete, name="position_delete"),
    path("groups/<int:pk>/", views.leading_group_detail, name="leading_group_detail"),
    path("groups/<int:pk>/edit/", views.leading_group_edit, name="leading_group_edit"),
    path("groups/<int:pk>/delete/", views.leading_group_delete, name="leading_group_delete"),
    path("groups/<int:pk>/members/add/", views.leading_group_member_add, name="leading_group_member_add"),
    path("members/<int:pk>/remove/", views.leading_group_member_remove, name="leading_group_member_remove"),
]
