"""/hours/certificates/ (namespace `hours`, included by hours/urls.py): url names are hours:certificate_…."""

from django.urls import path

from leifeng.hours.certificates import views

urlpatterns = [
    path("", views.certificate_queue, name="certificate_queue"),
    path("mine/", views.my_certificates, name="my_certificates"),
    path("<int:pk>/", views.certificate_detail, name="certificate_detail"),
    path("<int:pk>/issue/", views.certificate_issue, name="certificate_issue"),
    path("<int:pk>/refuse/", views.certificate_refuse, name="certificate_refuse"),
    path("<int:pk>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    path("<int:pk>/pdf/", views.certificate_download, name="certificate_pdf"),
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
]
