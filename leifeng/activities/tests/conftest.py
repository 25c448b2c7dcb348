"""Helpers for the activities tests: a published activity at 东关社区站 with one post, volunteers with logins.

The clock: services take `now=` (NOW, when the tests start); the post lies a week later, so pages and the
API, which read the real clock, find sign-ups open too.
"""

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone

from leifeng.activities import services
from leifeng.activities.models import Activity, ActivityStatus, Post
from leifeng.testing import VolunteerFactory, make_user

_n = itertools.count(1)
NOW = timezone.now().replace(minute=0, second=0, microsecond=0)
START = NOW + timedelta(days=7)


@pytest.fixture
def make_volunteer(tree):
    """make_volunteer(org=None, **fields) → an approved volunteer with a login at 东关社区站 by default."""

    def make(org=None, **fields):
        user = make_user(f"vol{next(_n)}")
        return VolunteerFactory(org=org or tree.st_a1, user=user, **fields)

    return make


def make_activity(org, *, quota: int = 3, start=START, hours: int = 2, **fields) -> Activity:
    """A published activity with one post, built directly (the services are tested on their own)."""
    a = Activity.objects.create(
        org=org,
        title=fields.pop("title", "敬老院清洁"),
        category=fields.pop("category", "elderly"),
        address=fields.pop("address", "东关敬老院"),
        status=fields.pop("status", ActivityStatus.PUBLISHED),
        **fields,
    )
    Post.objects.create(
        activity=a, title="清洁岗", starts_at=start, ends_at=start + timedelta(hours=hours), quota=quota
    )
    return a


@pytest.fixture
def activity(tree):
    return make_activity(tree.st_a1)


@pytest.fixture
def post(activity):
    return activity.posts.get()


def sign(volunteer, post, now=NOW):
    return services.signup_create(actor=volunteer.user, post=post, now=now)


def adult_birth() -> date:
    return date(1990, 1, 1)
