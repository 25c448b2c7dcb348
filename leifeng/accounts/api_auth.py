"""How API callers prove who they are: a bearer token (apps) or the browser session (pages)."""

from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from leifeng.accounts.models import ApiToken

LAST_USED_EVERY = timedelta(minutes=5)


@cache
def _token_query(alias: str) -> str:
    """SQL of the token lookup (the user's columns, the token's id and whether its last use is older than the
    cutoff), built once per database.

    Every API request runs this lookup, so it is plain SQL through `Manager.raw()` (which reads the user's
    columns through the ORM's converters): compiling the equivalent ORM query (select_related + three filters)
    cost more CPU than the rest of a check-in together (bench/).
    """
    qn = connections[alias].ops.quote_name
    user_model = get_user_model()
    return (
        f"SELECT u.*, t.{qn('id')} AS token_pk, "
        f"(t.{qn('last_used_at')} IS NULL OR t.{qn('last_used_at')} < %s) AS token_stale "
        f"FROM {qn(ApiToken._meta.db_table)} t "
        f"JOIN {qn(user_model._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')} "
        f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL AND u.{qn('is_active')}"
    )


def token_user(raw: str, *, using: str = "default"):
    """The active user owning the unrevoked token `raw`, or None; stamps last_used_at at most every 5 min."""
    connection = connections[using]
    now = timezone.now()
    cutoff = connection.ops.adapt_datetimefield_value(now - LAST_USED_EVERY)
    users = get_user_model()._default_manager.db_manager(using).raw(_token_query(using), [cutoff, ApiToken.hash(raw)])
    user = next(iter(users), None)
    if user is None:
        return None
    if user.token_stale:
        ApiToken.objects.using(using).filter(pk=user.token_pk).update(last_used_at=now)
    del user.token_pk, user.token_stale  # the user as the ORM loads it
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lf_…` — tokens are created on the account page or by POST /accounts/token.

    Only the SHA-256 of a token is stored. Revoked tokens and tokens of deactivated accounts are refused.
    """

    def authenticate(self, request, token: str):
        user = token_user(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The logged-in browser session, so pages can call the API too. Writes need the CSRF token.

    Without a session cookie there is nothing to protect, so the caller gets the 401 that says how to
    authenticate rather than a CSRF complaint.
    """

    def _get_key(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)
