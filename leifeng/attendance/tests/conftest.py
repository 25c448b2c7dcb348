"""An activity of 东关社区站 (the owner's station) with two posts and volunteers signed up."""

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from leifeng.activities.models import Activity, Post, Signup, SignupStatus
from leifeng.testing import VolunteerFactory, make_user

_n = itertools.count(1)
# A fixed clock: the morning of Lei Feng Day. Services take `now=`; nothing sleeps.
T0 = timezone.make_aware(datetime(2026, 3, 5, 8, 0))


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)


@pytest.fixture
def activity(tree, owner):
    return Activity.objects.create(
        org=tree.st_a1,
        title="文明交通劝导",
        category="other",
        address="东关路口",
        status="published",
        created_by=owner,
    )


@pytest.fixture
def post(activity):
    """08:00–10:00."""
    return Post.objects.create(activity=activity, title="路口劝导岗", starts_at=at(0), ends_at=at(2), quota=20)


@pytest.fixture
def post2(activity):
    """09:00–11:00, overlapping the first post by an hour."""
    return Post.objects.create(activity=activity, title="秩序维护岗", starts_at=at(1), ends_at=at(3), quota=20)


def sign_up(post, volunteer, status=SignupStatus.CONFIRMED):
    return Signup.objects.create(
        post=post, volunteer=volunteer, status=status, starts_at=post.starts_at, ends_at=post.ends_at
    )


@pytest.fixture
def make_volunteer(tree):
    def make(org=None, **fields):
        user = make_user(f"att{next(_n)}", display_name="志愿者")
        return VolunteerFactory(org=org or tree.st_a1, user=user, **fields)

    return make


@pytest.fixture
def vol(make_volunteer, post):
    volunteer = make_volunteer(name="李娜")
    sign_up(post, volunteer)
    return volunteer
