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
from leifeng.core.rows import convert, field_converters, row_reader

LAST_USED_EVERY = timedelta(minutes=5)


@cache
def _token_query(alias: str) -> str:
    """SQL of the token lookup (token id, last use, the user's columns in `row_reader` order), built once per
    database.

    Every API request runs this lookup, so it is plain SQL: compiling the equivalent ORM query
    (select_related + three filters) cost more CPU than the rest of a check-in together (bench/).
    """
    qn = connections[alias].ops.quote_name
    user_model = get_user_model()
    return (
        f"SELECT t.{qn('id')}, t.{qn('last_used_at')}, {row_reader(user_model, alias).select('u')} "
        f"FROM {qn(ApiToken._meta.db_table)} t "
        f"JOIN {qn(user_model._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')} "
        f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL AND u.{qn('is_active')}"
    )


def token_user(raw: str, *, using: str = "default"):
    """The active user owning the unrevoked token `raw`, or None; stamps last_used_at at most every 5 min."""
    with connections[using].cursor() as cur:
        cur.execute(_token_query(using), [ApiToken.hash(raw)])
        row = cur.fetchone()
    if row is None:
        return None
    last_used_at = convert(row[1], field_converters(ApiToken._meta.get_field("last_used_at"), using, "t"), using)
    now = timezone.now()
    if last_used_at is None or now - last_used_at > LAST_USED_EVERY:
        ApiToken.objects.using(using).filter(pk=row[0]).update(last_used_at=now)
    return row_reader(get_user_model(), using).instance(row[2:])


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
