"""/api/v1/hours/: the service-record ledger; certificates under /api/v1/hours/certificates/ (certificate_api.py)."""

from ninja import Router

from leifeng.hours.certificate_api import router as certificate_router

router = Router(tags=["hours"])
router.add_router("/certificates/", certificate_router)
