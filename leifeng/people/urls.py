from django.urls import path

from leifeng.people import excel_views, views

app_name = "people"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("me/", views.my_profile, name="my_profile"),
    path("volunteers/", views.volunteer_list, name="volunteer_list"),
    # Excel (people/excel.py + excel_views.py)
    path("volunteers/import/", excel_views.volunteer_import, name="volunteer_import"),
    path("volunteers/import/template.xlsx", excel_views.volunteer_import_template, name="volunteer_import_template"),
    path("volunteers/export.xlsx", excel_views.volunteer_export, name="volunteer_export"),
]
