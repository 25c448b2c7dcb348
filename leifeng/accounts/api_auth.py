"""How API callers prove who they are: a bearer token (apps) or the browser session (pages)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from leifeng.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lf_…` — tokens are created on the account page or by POST /accounts/token.

    Only the SHA-256 of a token is stored. Revoked tokens and tokens of deactivated accounts are refused.
    """

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
    """The logged-in browser session, so pages can call the API too. Writes need the CSRF token.

    Without a session cookie there is nothing to protect, so the caller gets the 401 that says how to
    authenticate rather than a CSRF complaint.
    """

    def _get_key(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)
