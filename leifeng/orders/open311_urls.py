"""Open311 GeoReport v2 under /open311/v2/ (see open311.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
