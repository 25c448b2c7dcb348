"""/orders/dispatch/: the batch dispatch board (names orders:dispatch_…)."""

from django.urls import path

from leifeng.orders.dispatch import views as dispatch_views

urlpatterns = [
    path("batch/", dispatch_views.batch, name="dispatch_batch"),
]
