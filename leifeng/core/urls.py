from django.urls import path

from leifeng.core import views

app_name = "core"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("audit/", views.audit_list, name="audit"),
]
