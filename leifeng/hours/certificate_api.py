"""/api/v1/hours/certificates/."""

from ninja import Router

router = Router(tags=["certificates"])
