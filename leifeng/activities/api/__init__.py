"""/api/v1/activities/ (a django-ninja Router): `endpoints` (the routes, in their matching order) and `schemas`."""

from leifeng.activities.api.endpoints import router

__all__ = ["router"]
