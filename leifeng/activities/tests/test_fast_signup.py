"""Sign-ups through the production WSGI entry point (leifeng/config/wsgi.py → activities/fast.py).

On PostgreSQL a plain self sign-up is answered before Django (no Django cursor runs); everything else goes to
Django. The person must see exactly what the API always answered, the quota must hold and the audit trail must
be the same: these tests send real WSGI requests and compare both paths. On SQLite Django answers them all.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import override_settings

from leifeng.accounts.models import ApiToken
from leifeng.accounts.services import token_create
from leifeng.activities.models import Signup
from leifeng.activities.tests.conftest import adult_birth, make_activity
from leifeng.core.models import AuditEvent
from leifeng.testing import DjangoQueries, wsgi_call

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, as under gunicorn
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path serves PostgreSQL only")


@pytest.fixture
def person(make_volunteer):
    """make(**fields) → (volunteer, bearer token used a moment ago)."""

    def make(**fields):
        fields.setdefault("birth_date", adult_birth())
        v = make_volunteer(**fields)
        row, raw = token_create(actor=v.user, name="手机")
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=row.created_at)
        return v, raw

    return make


def sign_up(post_id: int, bearer: str, **headers):
    return wsgi_call("POST", f"/api/v1/activities/posts/{post_id}/signups", authorization=f"Bearer {bearer}", **headers)


def audit_rows(signup: Signup) -> list:
    return list(
        AuditEvent.objects.filter(object_type="activities.signup", object_id=str(signup.pk)).values_list(
            "actor_id", "action", "object_repr", "org_id", "changes", "note"
        )
    )


@on_postgres
def test_a_sign_up_answered_before_django_is_the_same_as_djangos(tree, person):
    activity = make_activity(tree.st_a1, quota=5)
    post = activity.posts.get()
    me, bearer = person(name="李娜")
    with DjangoQueries() as fast:
        status, headers, body = sign_up(post.pk, bearer)
    assert status == 201 and fast.count == 0
    mine = Signup.objects.get(volunteer=me)
    other, other_bearer = person(name="王芳")
    with override_settings(LEIFENG_FAST_PATHS=False), DjangoQueries() as full:
        status2, headers2, body2 = sign_up(post.pk, other_bearer)
    assert status2 == 201 and full.count > 0
    theirs = Signup.objects.get(volunteer=other)
    assert body == {**body2, "id": mine.pk} and body["status"] == "confirmed"
    assert {k: v for k, v in headers.items() if k != "Content-Length"} == {
        k: v for k, v in headers2.items() if k != "Content-Length"
    }
    for field in ("status", "starts_at", "ends_at", "guardian_consent", "note", "group_id", "assigned_by_id"):
        assert getattr(mine, field) == getattr(theirs, field), field
    post.refresh_from_db()
    assert post.filled == 2
    (mine_audit,), (their_audit,) = audit_rows(mine), audit_rows(theirs)
    assert mine_audit[0] == me.user_id and their_audit[0] == other.user_id
    assert mine_audit[1:] == (their_audit[1], "李娜 @ 清洁岗", *their_audit[3:])


def test_a_full_post_waitlists_and_the_quota_holds(tree, person):
    post = make_activity(tree.st_a1, quota=1).posts.get()
    answers = [sign_up(post.pk, person()[1]) for _ in range(3)]
    assert [a[0] for a in answers] == [201, 201, 201]
    assert [a[2]["status"] for a in answers] == ["confirmed", "waitlisted", "waitlisted"]
    post.refresh_from_db()
    assert post.filled == 1 and Signup.objects.filter(status="confirmed").count() == 1


def test_refusals_come_from_the_api_unchanged_and_write_nothing(tree, person):
    activity = make_activity(tree.st_a1, quota=5)
    post = activity.posts.get()
    other_activity = make_activity(tree.st_b1)  # another district: not visible from 东关
    minor, minor_bearer = person(birth_date=activity.posts.get().starts_at.date().replace(year=2012))
    me, bearer = person()
    before = AuditEvent.objects.count()
    cases = [
        (sign_up(post.pk, "lf_wrong"), 401, None),
        (sign_up(other_activity.posts.get().pk, bearer), 404, None),
        (sign_up(999999, bearer), 404, None),
        (sign_up(post.pk, minor_bearer), 400, "minors_not_allowed"),
    ]
    for (status, headers, body), want_status, want_code in cases:
        assert status == want_status, body
        assert headers["Content-Type"].startswith("application/json") and "error" in body
        if want_code:
            assert body["error"]["code"] == want_code
    assert Signup.objects.count() == 0 and AuditEvent.objects.count() == before
    assert sign_up(post.pk, bearer)[0] == 201
    status, _, body = sign_up(post.pk, bearer)  # twice: Django names the problem
    assert status == 409 and body["error"]["code"] == "already_signed_up"
    assert Signup.objects.count() == 1


def test_an_overlapping_post_and_a_closed_window_are_refused(tree, person):
    first = make_activity(tree.st_a1).posts.get()
    second = make_activity(tree.st_a1, start=first.starts_at + timedelta(hours=1)).posts.get()
    me, bearer = person()
    assert sign_up(first.pk, bearer)[0] == 201
    status, _, body = sign_up(second.pk, bearer)
    assert status == 409 and body["error"]["code"] == "overlap"
    closed = make_activity(tree.st_a1, start=first.starts_at + timedelta(days=1))
    closed.signup_closes_at = closed.created_at
    closed.save(update_fields=["signup_closes_at"])
    status, _, body = sign_up(closed.posts.get().pk, bearer)
    assert status == 409 and body["error"]["code"] == "signup_closed"
    assert Signup.objects.filter(volunteer=me).count() == 1


@on_postgres
def test_a_rush_on_one_post_never_overfills_it(tree, person):
    post = make_activity(tree.st_a1, quota=10).posts.get()
    people = [person()[1] for _ in range(30)]
    barrier = threading.Barrier(len(people))
    answers, errors = [], []

    def one(bearer):
        try:
            barrier.wait()
            answers.append(sign_up(post.pk, bearer))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(b,)) for b in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and {a[0] for a in answers} == {201}
    assert sorted(a[2]["status"] for a in answers).count("confirmed") == 10
    post.refresh_from_db()
    assert post.filled == 10 == Signup.objects.filter(post=post, status="confirmed").count()
    assert Signup.objects.filter(post=post, status="waitlisted").count() == 20
    assert AuditEvent.objects.filter(action="signup.create").count() == 30


@on_postgres
def test_one_person_rushing_two_overlapping_posts_gets_one(tree, person):
    first = make_activity(tree.st_a1).posts.get()
    second = make_activity(tree.st_a1, start=first.starts_at + timedelta(minutes=30)).posts.get()
    me, bearer = person()
    barrier = threading.Barrier(2)
    answers = []

    def one(post_id):
        barrier.wait()
        answers.append(sign_up(post_id, bearer))
        connection.close()

    threads = [threading.Thread(target=one, args=(p.pk,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a[0] for a in answers) == [201, 409]
    assert Signup.objects.filter(volunteer=me).count() == 1


@on_postgres
def test_a_token_not_used_lately_is_stamped_by_the_sign_up(tree, make_volunteer):
    post = make_activity(tree.st_a1).posts.get()
    me = make_volunteer(birth_date=adult_birth())
    row, raw = token_create(actor=me.user, name="新手机")  # never used: last_used_at is empty
    with DjangoQueries() as fast:
        status, _, body = sign_up(post.pk, raw)
    assert status == 201 and body["status"] == "confirmed" and fast.count == 0
    row.refresh_from_db()
    assert row.last_used_at is not None
