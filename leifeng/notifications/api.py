"""/api/v1/notifications/."""

from ninja import Router

router = Router(tags=["notifications"])
