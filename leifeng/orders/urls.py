from django.urls import include, path

from leifeng.orders import views

app_name = "orders"
urlpatterns: list = [
    # residents, no account
    path("menu/", views.menu, name="menu"),
    path("new/", views.order_new, name="order_new"),
    path("t/<str:token>/", views.track, name="track"),
    path("t/<str:token>/rate/", views.track_rate, name="track_rate"),
    path("t/<str:token>/cancel/", views.track_cancel, name="track_cancel"),
    # staff
    path("inbox/", views.inbox, name="inbox"),
    path("enter/", views.staff_new, name="staff_new"),
    path("escalations/", views.escalations, name="escalations"),
    path("figures/", views.figures, name="figures"),
    path("figures/export/", views.figures_export, name="figures_export"),
    path("inbox/export/", views.inbox_export, name="inbox_export"),
    path("menus/", views.menus, name="menus"),
    path("menus/<int:pk>/edit/", views.menu_edit, name="menu_edit"),
    path("menus/<int:pk>/toggle/", views.menu_toggle, name="menu_toggle"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:pk>/do/<slug:action>/", views.order_action, name="order_action"),
    # team leaders and volunteers
    path("mine/", views.my_orders, name="my_orders"),
    # Suggestions and batch dispatch (the matching engine's pages): dispatch/urls.py.
    path("dispatch/", include("leifeng.orders.dispatch.urls")),
]
