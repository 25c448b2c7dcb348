"""/api/v1/attendance/."""

from ninja import Router

router = Router(tags=["attendance"])
