from django.urls import path

from leifeng.people import views
from leifeng.people.excel import views as excel_views

app_name = "people"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/qr/<int:org_id>.svg", views.register_qr, name="register_qr"),
    path("me/", views.my_profile, name="my_profile"),
    path("me/resubmit/", views.resubmit, name="resubmit"),
    path("volunteers/", views.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", views.volunteer_create, name="volunteer_create"),
    # Excel (people/excel/)
    path("volunteers/import/", excel_views.volunteer_import, name="volunteer_import"),
    path("volunteers/import/template.xlsx", excel_views.volunteer_import_template, name="volunteer_import_template"),
    path("volunteers/export.xlsx", excel_views.volunteer_export, name="volunteer_export"),
    # One volunteer, by public number (after the fixed paths above so "new" and "import" are never numbers)
    path("volunteers/<str:number>/", views.volunteer_detail, name="volunteer_detail"),
    path("volunteers/<str:number>/edit/", views.volunteer_edit, name="volunteer_edit"),
    path("volunteers/<str:number>/reveal-id/", views.volunteer_reveal_id, name="volunteer_reveal_id"),
    path("volunteers/<str:number>/approve/", views.volunteer_approve, name="volunteer_approve"),
    path("volunteers/<str:number>/reject/", views.volunteer_reject, name="volunteer_reject"),
    path("volunteers/<str:number>/suspend/", views.volunteer_suspend, name="volunteer_suspend"),
    path("volunteers/<str:number>/reinstate/", views.volunteer_reinstate, name="volunteer_reinstate"),
]
