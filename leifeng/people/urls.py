from django.urls import path

from leifeng.people import views

app_name = "people"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("me/", views.my_profile, name="my_profile"),
    path("volunteers/", views.volunteer_list, name="volunteer_list"),
    path("teams/", views.team_list, name="team_list"),
]
