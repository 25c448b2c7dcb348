"""The sign-up's burst path (activities/fast.py) and the policy agree, refusals included.

fast.py decides "may this volunteer see this activity" on the values its one statement fetched, through
`activity_policy.reaches` — the policy's own evaluation of its rule — and hands everything it does not plainly
accept to Django. For every place × visibility × status this checks, through real WSGI requests, that the answer
is the one the policy gives (201 where the volunteer may see the activity and it is open for sign-up, 404 where
they may not see it, 409 where they see it but it is not open), that it is the answer Django gives without the
burst path, and (on PostgreSQL) that the burst path answered exactly the cases the policy accepts by place.
"""

import itertools

import pytest
from django.db import connection
from django.test.utils import override_settings

from leifeng.accounts.models import ApiToken
from leifeng.accounts.services import token_create
from leifeng.activities.models import Activity, ActivityStatus, Visibility
from leifeng.activities.policy import OPEN_FOR_SIGNUP, activity_policy
from leifeng.activities.tests.conftest import adult_birth, make_activity
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.testing import DjangoQueries, TeamFactory, wsgi_call

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, as under gunicorn


def test_the_burst_path_answers_what_the_policy_says(tree, make_volunteer):
    team = TeamFactory(org=tree.st_a1)

    def person():
        v = make_volunteer(birth_date=adult_birth())
        TeamMembership.objects.create(team=team, volunteer=v, status=MembershipStatus.ACTIVE)
        row, raw = token_create(actor=v.user, name="手机")
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=row.created_at)
        return v, raw

    def sign_up(post_id: int, bearer: str):
        return wsgi_call("POST", f"/api/v1/activities/posts/{post_id}/signups", authorization=f"Bearer {bearer}")

    places = ("sub_a", "st_a1", "st_a2", "st_b1")
    statuses = (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, ActivityStatus.DRAFT, ActivityStatus.FINISHED)
    answered = {"fast": 0, "django": 0}
    for place, visibility, status in itertools.product(places, Visibility.values, statuses):
        case = (place, visibility, status)
        a = make_activity(getattr(tree, place), status=status, visibility=visibility)
        if visibility == Visibility.TEAMS:
            a.teams.add(team)
        a = Activity.objects.select_related("org").get(pk=a.pk)
        post = a.posts.get()
        me, bearer = person()
        other, other_bearer = person()
        sees = activity_policy.volunteer_may_see(me, a)
        want = 201 if sees and a.status in OPEN_FOR_SIGNUP else 409 if sees else 404
        with DjangoQueries() as queries:
            got, _headers, body = sign_up(post.pk, bearer)
        with override_settings(LEIFENG_FAST_PATHS=False):
            django_got, _headers, django_body = sign_up(post.pk, other_bearer)
        assert got == want == django_got, case
        if want != 201:
            assert body["error"]["code"] == django_body["error"]["code"], case
            if want == 409:
                assert body["error"]["code"] == "not_published", case
        by_place = want == 201 and activity_policy.reaches(me.org.path, a.org.path, a.visibility)
        fast = queries.count == 0
        if connection.vendor == "postgresql":
            assert fast == by_place, case  # the burst path takes exactly what the policy accepts by place
        else:
            assert not fast, case  # SQLite: Django answers everything
        answered["fast" if fast else "django"] += 1
    if connection.vendor == "postgresql":
        assert answered["fast"] == 2 * 2  # sub_a and st_a1 (station and above) × published, in progress
