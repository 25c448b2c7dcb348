"""gen_scale writes rows the application accepts: valid, unique, decryptable ID numbers in a sound tree."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.cn import ric, uscc

from leifeng.core import crypto
from leifeng.core.idnumbers import make_ric, mask_id
from leifeng.demo.ids import AREA_CODES, credit_code
from leifeng.demo.scale import ID_SPACE, gen_scale, scale_id
from leifeng.demo.seed import seed_demo
from leifeng.orgs.models import Org, OrgLevel
from leifeng.people import pinyin
from leifeng.people.models import Volunteer
from leifeng.teams.models import MembershipStatus, Team, TeamLevel, TeamMembership
from leifeng.testing import VolunteerFactory

pytestmark = pytest.mark.django_db


def test_builds_a_county_of_valid_unique_volunteers():
    out = StringIO()
    call_command(
        "gen_scale", "--volunteers", "500", "--stations", "7", "--subcenters", "3", "--batch", "200", stdout=out
    )
    assert "volunteers/s" in out.getvalue()

    root = Org.objects.get(depth=1)
    assert Org.objects.filter(level=OrgLevel.SUBCENTER).count() == 3
    assert Org.objects.filter(level=OrgLevel.STATION, path__startswith=root.path).count() == 7
    assert Org.objects.find_problems() == ([], [], [], [], [])  # paths, depths and numchild are consistent
    assert Org.objects.get_children(root).count() == 3

    volunteers = list(Volunteer.objects.filter(org__path__startswith=root.path))
    assert len(volunteers) == 500
    assert len({v.number for v in volunteers}) == 500
    assert len({v.id_index for v in volunteers}) == 500
    numbers = set()
    for v in volunteers:
        number = crypto.decrypt(v.id_number_encrypted)
        assert ric.is_valid(number), number
        numbers.add(number)
        assert v.id_index == crypto.blind_index(v.id_type, number)
        assert v.id_masked == mask_id(number)
        assert v.birth_date == ric.get_birth_date(number)
        assert v.gender == ("m" if int(number[16]) % 2 else "f")
        assert (v.name_pinyin, v.name_initials) == pinyin.keys(v.name)
        assert v.org.level == OrgLevel.STATION
    assert len(numbers) == 500
    assert len({v.name for v in volunteers}) > 100

    # Everyone sits in their station's squadron; the squads hang under it.
    assert TeamMembership.objects.filter(status=MembershipStatus.ACTIVE).count() == 500
    assert all(m.team.org_id == m.volunteer.org_id for m in TeamMembership.objects.select_related("team", "volunteer"))
    assert Team.objects.filter(level=TeamLevel.BRIGADE).count() == 3
    assert Team.objects.filter(level=TeamLevel.SQUADRON).count() == 7
    assert Team.objects.filter(level=TeamLevel.SQUAD).count() == 14
    assert Volunteer.skills.through.objects.count() > 100


def test_runs_again_and_next_to_the_demo_without_collisions():
    seed_demo()
    first = gen_scale(volunteers=300, stations=4, subcenters=2, batch=128)
    second = gen_scale(volunteers=300, stations=4, subcenters=2, batch=1000, memberships=False)
    assert first.center.pk != second.center.pk
    assert Org.objects.filter(depth=1).count() == 3
    assert Org.objects.find_problems() == ([], [], [], [], [])
    total = Volunteer.objects.count()
    assert total == 300 + 300 + 300
    assert len(set(Volunteer.objects.values_list("id_index", flat=True))) == total
    assert len(set(Volunteer.objects.values_list("number", flat=True))) == total
    assert TeamMembership.objects.filter(team__org__path__startswith=second.center.path).count() == 0
    # The ORM sees the rows as it sees any other (ids line up, later inserts still work).
    v = Volunteer.objects.filter(org__path__startswith=second.center.path).latest("id")
    assert v.memberships.count() == 0 and v.skills.count() in (0, 1)
    later = VolunteerFactory(org=v.org)
    assert later.pk > v.pk
    assert first.rows_per_second > 0


def test_refuses_impossible_shapes():
    with pytest.raises(ValueError):
        gen_scale(volunteers=10, stations=1, subcenters=2)


def test_identifier_helpers_give_valid_numbers():
    for area in AREA_CODES:  # valid for every birth year the demo and gen_scale use
        for year in (1930, 1950, 1980, 2005, 2012):
            assert ric.is_valid(make_ric(area, date(year, 2, 28), 501)), area
    for key in (0, 1, 999_999, ID_SPACE - 1):
        number = scale_id(key)
        assert number == make_ric(number[:6], ric.get_birth_date(number), int(number[14:17]))
        assert int(number[14:17]) >= 500  # seed_demo keeps below 500
    for serial in range(50):
        assert uscc.is_valid(credit_code("91", "430121", 43012100 + serial))
