from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from leifeng.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lf_…` — tokens are created on the account page or by the API."""

    def authenticate(self, request, token: str):
        row = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


class SessionAuth(NinjaSessionAuth):
    """The logged-in browser session (CSRF checked on writes), so pages can call the API too."""
