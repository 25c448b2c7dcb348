"""/api/v1/orders/."""

from ninja import Router

router = Router(tags=["orders"])
