"""Helpers for the teams tests: volunteers with accounts, a team at 东关社区站 (the owner's station)."""

import itertools

import pytest

from leifeng.teams.models import TeamLevel
from leifeng.testing import TeamFactory, VolunteerFactory, make_user

_n = itertools.count(1)


@pytest.fixture
def make_volunteer(tree):
    """make_volunteer(org=None, account=True, **fields) → a volunteer (approved by default) with a login."""

    def make(org=None, *, account: bool = True, **fields):
        user = make_user(f"vol{next(_n)}") if account else None
        return VolunteerFactory(org=org or tree.st_a1, user=user, **fields)

    return make


@pytest.fixture
def team(tree):
    """A squadron (中队) at 东关社区站 with no limit."""
    return TeamFactory(org=tree.st_a1, name="东关孝老敬老中队")


@pytest.fixture
def group(tree):
    """A group (小组) at 东关社区站: at most 8 members."""
    return TeamFactory(org=tree.st_a1, name="东关邻里守望小组", level=TeamLevel.GROUP, max_members=8)
