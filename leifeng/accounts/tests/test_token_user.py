"""The API token lookup (`api_auth.token_user`, one `raw()` statement): the account as the ORM loads it, the
last use stamped at most every five minutes, revoked tokens and inactive accounts refused."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leifeng.accounts.api_auth import LAST_USED_EVERY, token_user
from leifeng.accounts.models import ApiToken
from leifeng.accounts.services import token_create


def test_the_user_is_the_one_the_orm_loads(owner):
    _row, raw = token_create(actor=owner, name="手机")
    user = token_user(raw)
    orm = get_user_model().objects.get(pk=owner.pk)
    for field in get_user_model()._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(user, field.attname)) is type(getattr(orm, field.attname)), field.name
    assert user._state.adding is False and not hasattr(user, "token_pk") and not hasattr(user, "token_stale")


def test_last_use_stamped_at_most_every_five_minutes(owner):
    row, raw = token_create(actor=owner, name="手机")
    assert row.last_used_at is None
    token_user(raw)  # never used: stamped
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as ctx:
        assert token_user(raw) == owner
    assert len(ctx.captured_queries) == 1  # used a moment ago: the lookup only
    row.refresh_from_db()
    assert row.last_used_at == first
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - LAST_USED_EVERY - timedelta(seconds=5))
    with CaptureQueriesContext(connection) as ctx:
        assert token_user(raw) == owner
    assert len(ctx.captured_queries) == 2  # the lookup and the stamp
    row.refresh_from_db()
    assert row.last_used_at > first


def test_revoked_tokens_and_inactive_accounts_are_refused(owner, colleague):
    row, raw = token_create(actor=owner, name="手机")
    _row2, raw2 = token_create(actor=colleague, name="平板")
    assert token_user("lf_nothing") is None
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert token_user(raw) is None
    colleague.is_active = False
    colleague.save()
    assert token_user(raw2) is None
