from django.urls import include, path

from leifeng.orders import views  # noqa: F401

app_name = "orders"
urlpatterns: list = [
    # Suggestions and batch dispatch (the matching engine's pages): dispatch_urls.py.
    path("dispatch/", include("leifeng.orders.dispatch_urls")),
]
