from django.urls import path

from leifeng.attendance import views

app_name = "attendance"
urlpatterns = [
    path("kiosk/<int:pk>/", views.kiosk, name="kiosk"),
    path("kiosk/<int:pk>/qr/", views.kiosk_qr, name="kiosk_qr"),
    path("kiosk/<int:pk>/reset/", views.kiosk_reset, name="kiosk_reset"),
    path("scan/", views.scan, name="scan"),
    path("posts/<int:pk>/roll-call/", views.roll_call, name="roll_call"),
    path("posts/<int:pk>/roll-call/<int:volunteer_id>/", views.roll_call_mark, name="roll_call_mark"),
    path("posts/<int:pk>/staff-check/<int:volunteer_id>/", views.staff_check, name="staff_check"),
    path("posts/<int:pk>/code/", views.code_create, name="code_create"),
    path("code/", views.code_enter, name="code_enter"),
]
