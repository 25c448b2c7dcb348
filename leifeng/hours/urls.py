from django.urls import include, path

from leifeng.hours import views

app_name = "hours"
urlpatterns: list = [
    path("", views.my_hours, name="my_hours"),
    path("records/<int:pk>/correction/", views.correction_request, name="correction_request"),
    path("records/<int:pk>/correct/", views.record_correct, name="record_correct"),
    path("corrections/<int:pk>/answer/", views.correction_answer, name="correction_answer"),
    path("claims/new/", views.claim_create, name="claim_create"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="claim_decide"),
    path("activities/<int:pk>/review/", views.review, name="review"),
    # Certificates (志愿服务记录证明) and their public verification page: certificates/urls.py.
    path("certificates/", include("leifeng.hours.certificates.urls")),
]
