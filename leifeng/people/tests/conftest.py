"""Fixtures of the people tests: registration inputs, a pending volunteer of the owner's station, API clients."""

import itertools
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from leifeng.accounts.models import ApiToken
from leifeng.core.idnumbers import make_ric
from leifeng.people.models import RegistrationChannel
from leifeng.people.services import VolunteerInput, volunteer_register

_seq = itertools.count(500)


def ric_born(birth: date) -> str:
    """A valid resident ID number of someone born on `birth` (fictitious, unique per call)."""
    return make_ric("110105", birth, next(_seq))


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born.fromordinal(born.toordinal() - days)


def registration(org, **kw) -> VolunteerInput:
    """A valid adult registration at `org`; keyword arguments override fields."""
    fields = {
        "name": "张伟",
        "id_number": ric_born(date(1990, 5, 17)),
        "phone": f"1380000{next(_seq):04d}",
        "org_id": org.pk,
        "consent": True,
    }
    fields.update(kw)
    return VolunteerInput(**fields)


@pytest.fixture
def pending(tree, owner):
    """A pending registration at the owner's station, entered by the owner."""
    return volunteer_register(
        actor=owner, data=registration(tree.st_a1, name="李娜"), channel=RegistrationChannel.STAFF
    )


@pytest.fixture
def make_status(tree, owner):
    """make_status(status) → a volunteer of st_a1 already in that status."""
    from leifeng.testing import VolunteerFactory

    def make(status: str):
        return VolunteerFactory(
            org=tree.st_a1, status=status, rejection_reason="资料不全" if status == "rejected" else ""
        )

    return make


@pytest.fixture
def api_for():
    """api_for(user) → a client sending `Authorization: Bearer <a new token of user>`."""

    def make(user) -> Client:
        raw = ApiToken.new_key()
        ApiToken.objects.create(user=user, name="test", prefix=raw[:8], key_hash=ApiToken.hash(raw))
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make
