"""/api/v1/hours/."""

from ninja import Router

router = Router(tags=["hours"])
