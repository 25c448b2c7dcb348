"""The kiosk QR code and the place (签到码 / 地理围栏).

The kiosk QR encodes a URL with a token signed by `signing.TimestampSigner` salted with the activity's
`kiosk_secret`; it is refused after KIOSK_TOKEN_MAX_AGE seconds (a photo is useless later) and when tampered
with; regenerating the secret voids every code shown so far. The optional geofence refuses positions farther
than `activity.geofence_m` (haversine).
"""

import math
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.activities.models import Activity, new_kiosk_secret
from leifeng.attendance.codes import AuditAction, ErrorCode
from leifeng.attendance.selectors import activity_for_kiosk
from leifeng.attendance.services.common import KIOSK_TOKEN_MAX_AGE
from leifeng.core import audit
from leifeng.core.errors import ServiceError

# ---------------------------------------------------------------- kiosk tokens


class _Signer(signing.TimestampSigner):
    def __init__(self, activity: Activity, now: datetime | None = None):
        super().__init__(salt=f"leifeng.kiosk:{activity.kiosk_secret}")
        self._now = now

    def timestamp(self):
        moment = self._now or timezone.now()
        return signing.b62_encode(int(moment.timestamp()))


def kiosk_token(activity: Activity, *, now: datetime | None = None) -> str:
    """`<activity id>:<timestamp>:<signature>`, valid for KIOSK_TOKEN_MAX_AGE seconds."""
    return _Signer(activity, now).sign(str(activity.pk))


def token_activity_id(token: str) -> int:
    head = (token or "").split(":", 1)[0]
    if not head.isdigit():
        raise ServiceError(_("This is not a check-in code of this platform."), code=ErrorCode.BAD_TOKEN, field="token")
    return int(head)


@lru_cache(maxsize=1024)
def _kiosk_signer(secret: str, key: str, fallbacks: tuple) -> signing.Signer:
    """One verifier per kiosk secret (and signing keys): thousands of scans of the same activity per minute."""
    return signing.Signer(key=key, fallback_keys=list(fallbacks), salt=f"leifeng.kiosk:{secret}")


def verify_token(activity: Activity, token: str, *, now: datetime | None = None) -> None:
    """Raise a clear error for a tampered or stale code."""
    try:
        signer = _kiosk_signer(activity.kiosk_secret, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
        value = signer.unsign(token)
        aid, stamp = value.rsplit(":", 1)
        signed_at = signing.b62_decode(stamp)
    except (signing.BadSignature, ValueError):
        raise ServiceError(
            _("This check-in code is not valid: scan the code on the kiosk screen again."),
            code=ErrorCode.BAD_TOKEN,
            field="token",
        ) from None
    age = (now or timezone.now()).timestamp() - signed_at
    if aid != str(activity.pk) or age > KIOSK_TOKEN_MAX_AGE or age < -5:
        raise ServiceError(
            _("This check-in code has expired (it changes every few seconds): scan the code on the screen again."),
            code=ErrorCode.STALE_TOKEN,
            field="token",
        )


def kiosk_reset(*, actor, activity_id) -> Activity:
    """A new kiosk secret: every code shown so far stops working at once."""
    with transaction.atomic():
        activity = activity_for_kiosk(actor=actor, activity_id=activity_id)
        activity.kiosk_secret = new_kiosk_secret()
        activity.save(update_fields=["kiosk_secret"])
        audit.record(actor=actor, action=AuditAction.KIOSK_RESET, obj=activity)
    return activity


# ---------------------------------------------------------------- geofence


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


POSITION_RANGE = {"lat": 90.0, "lng": 180.0}  # |latitude| ≤ 90°, |longitude| ≤ 180°


def clean_position(lat, lng) -> None:
    """A position the phone sent is a real place or nothing: NaN (which no distance exceeds, so it would pass
    any geofence), ±Infinity (which breaks the haversine) and numbers beyond the poles or the date line are
    refused naming the field, whether or not the activity has a geofence."""
    for name, value in (("lat", lat), ("lng", lng)):
        if value is None:
            continue
        limit = POSITION_RANGE[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= value <= limit:
            # the comparison is False for NaN, and ±Infinity is outside the range
            raise ServiceError(
                _("%(field)s must be a number from -%(limit)d to %(limit)d.") % {"field": name, "limit": limit},
                code=ErrorCode.BAD_POSITION,
                field=name,
            )


def check_geofence(activity: Activity, lat: float | None, lng: float | None) -> None:
    clean_position(lat, lng)
    if not activity.geofence_m or activity.latitude is None or activity.longitude is None:
        return
    if lat is None or lng is None:
        raise ServiceError(
            _("This activity checks people in on the spot: allow the page to use your location."),
            code=ErrorCode.POSITION_NEEDED,
            field="position",
        )
    d = distance_m(float(activity.latitude), float(activity.longitude), float(lat), float(lng))
    if d > activity.geofence_m:
        far = f"{d / 1000:.1f} km" if d >= 1000 else f"{d:.0f} m"
        raise ServiceError(
            _("You are %(far)s from the place; check-in works within %(radius)d m of it.")
            % {"far": far, "radius": activity.geofence_m},
            code=ErrorCode.OUTSIDE_GEOFENCE,
            field="position",
        )
