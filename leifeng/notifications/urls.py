from django.urls import path

from leifeng.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("badge/", views.unread_badge, name="unread_badge"),
    path("relays/", views.relay_list, name="relay_list"),
    path("relays/new/", views.relay_create, name="relay_create"),
    path("relays/<int:pk>/", views.relay_detail, name="relay_detail"),
    path("relays/<int:pk>/retry/", views.relay_retry, name="relay_retry"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]
