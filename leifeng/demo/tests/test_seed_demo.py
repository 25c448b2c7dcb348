"""seed_demo builds what the README promises, and each demo account can log in and sees its own scope."""

import pytest
from django.db.models import Count, Q
from django.urls import reverse
from stdnum.cn import ric, uscc

from leifeng.accounts.models import Role, RoleAssignment, User
from leifeng.core import crypto, scope
from leifeng.core.idnumbers import age_on
from leifeng.core.models import AuditEvent
from leifeng.core.scope import Perm
from leifeng.demo import content as C
from leifeng.demo.seed import seed_demo
from leifeng.orgs.models import LeadingGroup, Org, OrgLevel, Position, Unit, UnitKind
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamKind, TeamLevel, TeamMembership


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    """The demo, built once for this module (11 s a build) inside a transaction that is rolled back at the end, as
    Django's TestCase.setUpTestData does: each test's own changes are rolled back to it (a savepoint), nothing
    outlives the module."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield seed_demo()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def demo(_seeded, db):
    return _seeded


def test_builds_the_promised_county(demo):
    center = Org.objects.get(level=OrgLevel.CENTER)
    assert center.name == C.CENTER
    assert Org.objects.filter(depth=1).count() == 1
    sub = Org.objects.get(name=C.SUBCENTER)
    assert sub.level == OrgLevel.SUBCENTER and Org.objects.get_parent(sub).pk == center.pk
    stations = Org.objects.filter(path__startswith=sub.path, level=OrgLevel.STATION)
    assert stations.count() == 9
    # The street plan: a 站长 and a 专管员 at every station, and the 所's leaders by name.
    for st in stations:
        assert set(Position.objects.filter(org=st).values_list("title", flat=True)) >= {"station_head", "specialist"}
        assert Org.objects.get_children(st).filter(level=OrgLevel.POINT).exists()
    assert set(Position.objects.filter(org=sub).values_list("person_name", flat=True)) >= {"何华光", "方艳明", "柴志慧"}
    group = LeadingGroup.objects.get(org=sub, name=C.LEADING_GROUP)
    assert set(group.members.values_list("role", flat=True)) == {"leader", "deputy", "member", "office_head"}
    other = Org.objects.get(name=C.OTHER_SUBCENTER)
    assert 2 <= Org.objects.filter(path__startswith=other.path, level=OrgLevel.STATION).count() <= 3

    # Units with valid credit codes; the school has classes 1001班–1010班.
    kinds = set(Unit.objects.filter(parent=None).values_list("kind", flat=True))
    assert kinds >= {UnitKind.HOSPITAL, UnitKind.AGENCY, UnitKind.SCHOOL, UnitKind.ENTERPRISE, UnitKind.SOCIAL}
    assert UnitKind.MILITARY in kinds
    for code in Unit.objects.exclude(credit_code="").values_list("credit_code", flat=True):
        assert uscc.is_valid(code), code
    school = Unit.objects.get(name=C.SCHOOL)
    assert sorted(school.subunits.values_list("name", flat=True)) == [f"{C.SCHOOL}{n}班" for n in range(1001, 1011)]

    # The fixed teams of "5+n" under the street brigade, optional ones, a 中队 per station.
    brigade = Team.objects.get(name=C.BRIGADE, level=TeamLevel.BRIGADE)
    fixed = Team.objects.filter(kind=TeamKind.FIXED)
    assert sorted(fixed.values_list("name", flat=True)) == sorted(name for name, *_ in C.FIXED_TEAMS)
    assert all(t.parent_id == brigade.pk and t.leader_id and t.deputy_id for t in fixed)
    assert Team.objects.filter(kind=TeamKind.OPTIONAL, parent=brigade).count() >= 3
    for st in stations:
        assert Team.objects.filter(org=st, level=TeamLevel.SQUADRON, parent=brigade).count() == 1
    assert TeamMembership.objects.filter(status=MembershipStatus.PENDING).exists()
    assert AuditEvent.objects.filter(action="demo.seed").count() >= 3
    # A leader belongs to the team they lead.
    for t in Team.objects.exclude(leader=None):
        assert TeamMembership.objects.filter(team=t, volunteer=t.leader, status=MembershipStatus.ACTIVE).exists()


def test_volunteers_are_plausible_and_valid(demo):
    volunteers = list(Volunteer.objects.prefetch_related("skills"))
    assert 280 <= len(volunteers) <= 320
    today = demo.people[0].birth.__class__.today()
    for v in volunteers:
        number = crypto.decrypt(v.id_number_encrypted)
        assert ric.is_valid(number), (v.name, number)
        assert v.id_index == crypto.blind_index(v.id_type, number)
        assert v.birth_date == ric.get_birth_date(number)
        age = age_on(v.birth_date, today)
        assert age >= 14, v.name
        if age < 18:
            assert v.guardian_name and v.guardian_phone and v.guardian_consent_at, v.name
        assert v.name_initials and v.phone
    statuses = {s: sum(v.status == s for v in volunteers) for s in VolunteerStatus.values}
    assert statuses[VolunteerStatus.APPROVED] > 250
    assert statuses[VolunteerStatus.PENDING] > 0
    assert 1 <= statuses[VolunteerStatus.REJECTED] <= 5
    assert all(v.rejection_reason for v in volunteers if v.status == VolunteerStatus.REJECTED)
    assert sum(age_on(v.birth_date, today) < 18 for v in volunteers) >= 50  # five per class
    assert sum(v.in_service_party_member for v in volunteers) > 10
    assert len({s.name for v in volunteers for s in v.skills.all()}) >= 10
    assert len({v.name for v in volunteers}) == len(volunteers)


def test_groups_hold_at_most_eight(demo):
    groups = Team.objects.filter(level=TeamLevel.GROUP).annotate(
        n=Count("memberships", filter=Q(memberships__status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING]))
    )
    assert groups.count() >= 10
    assert all(g.max_members is not None and g.max_members <= 8 for g in groups)
    assert max(g.n for g in groups) <= 8
    assert sorted(g.n for g in groups if g.name.endswith("文明劝导小组")) == [5] * 10


def _login(client, username: str) -> None:
    response = client.post(reverse("accounts:login"), {"username": username, "password": C.DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"


def _nav(client) -> set[str]:
    response = client.get(reverse("home:home"))
    assert response.status_code == 200
    return {url for _label, url in response.context["nav_items"]}


def test_every_role_has_a_demo_account_that_logs_in_and_sees_its_scope(demo, client):
    held = set(
        RoleAssignment.objects.filter(user__username__in=[a[0] for a in C.ACCOUNTS]).values_list("role", flat=True)
    )
    assert held == set(Role.values)
    volunteers_url = reverse("people:volunteer_list")
    sub, station = demo.subcenter, demo.stations[C.DEMO_STATION]
    everyone = Volunteer.objects.count()
    in_street = Volunteer.objects.filter(org__path__startswith=sub.path).count()
    at_station = Volunteer.objects.filter(org=station).count()
    assert everyone > in_street > at_station > 0

    def visible(user) -> int:
        return scope.scoped(Volunteer.objects.all(), user, Perm.VIEW).count()

    for username, role, *_rest in C.ACCOUNTS:
        client.logout()
        _login(client, username)
        user = User.objects.get(username=username)
        assert user.phone
        nav = _nav(client)
        if role == Role.PLATFORM_ADMIN:
            assert user.is_superuser and user.is_staff and reverse("admin:index") in nav
            assert visible(user) == everyone
        elif username == "center":
            assert visible(user) == everyone and reverse("accounts:user_list") in nav
        elif username == "changan":
            assert visible(user) == in_street and scope.allows(user, Perm.MANAGE_ORG, sub)
            assert not scope.allows(user, Perm.VIEW, demo.other_subcenter)
        elif role == Role.ORG_ADMIN:  # the station head
            assert visible(user) == at_station and scope.allows(user, Perm.APPROVE, station)
            assert not scope.allows(user, Perm.VIEW, sub)
        elif role == Role.ORG_STAFF:
            assert visible(user) == at_station and scope.allows(user, Perm.CHANGE, station)
            assert not scope.allows(user, Perm.MANAGE_ORG, station)
        elif role == Role.ASSESSOR:
            assert visible(user) == in_street and volunteers_url in nav
            assert not scope.has_any(user, Perm.CHANGE)
        elif role == Role.TEAM_LEADER:
            assert scope.allows(user, Perm.LEAD_TEAM, station)
            assert Team.objects.get(name=C.NEIGHBORHOOD_TEAM).leader.user == user
        elif role == Role.VOLUNTEER:
            assert user.volunteer.status == VolunteerStatus.APPROVED
            assert user.volunteer.memberships.filter(status=MembershipStatus.ACTIVE).exists()
            assert visible(user) == 0 and volunteers_url not in nav and reverse("people:my_profile") in nav
        else:  # care worker and recorder: their modules are still to come, but the account works
            assert visible(user) == 0 and volunteers_url not in nav

    client.logout()
    _login(client, "13800000003")  # by mobile number too
