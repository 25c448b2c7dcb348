from django.urls import include, path

from leifeng.activities import views

app_name = "activities"
urlpatterns = [
    # volunteers
    path("", views.find, name="find"),
    path("mine/", views.my_shifts, name="my_shifts"),
    path("<int:pk>/", views.activity_detail, name="activity_detail"),
    path("posts/<int:post_id>/signup/", views.signup, name="signup"),
    path("signups/<int:signup_id>/withdraw/", views.withdraw, name="withdraw"),
    # organizers
    path("manage/", views.activity_list, name="activity_list"),
    path("new/", views.activity_create, name="activity_create"),
    path("<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("<int:pk>/posts/add/", views.post_add, name="post_add"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/delete/", views.post_delete, name="post_delete"),
    path("<int:pk>/insurance/", views.insurance_add, name="insurance_add"),
    path("<int:pk>/do/<slug:action>/", views.activity_transition, name="activity_transition"),
    path("<int:pk>/roster/", views.roster, name="roster"),
    path("posts/<int:post_id>/groups/", views.groups_build, name="groups_build"),
    path("signups/<int:signup_id>/group/", views.group_move, name="group_move"),
    path("groups/<int:group_id>/leader/", views.group_leader, name="group_leader"),
    path("signups/<int:signup_id>/remove/", views.signup_remove, name="signup_remove"),
    path("posts/<int:post_id>/assign/", views.assign, name="assign"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/report/photos/", views.report_photo, name="report_photo"),
    # campaigns
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/phases/", views.campaign_phases, name="campaign_phases"),
    path("campaigns/<int:pk>/copy/", views.campaign_copy, name="campaign_copy"),
    # iCalendar feeds per node and per volunteer: feed_urls.py.
    path("feeds/", include("leifeng.activities.feed_urls")),
]
