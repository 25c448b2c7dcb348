import threading
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.models import AuditEvent
from leifeng.core.transitions import Transitions
from leifeng.people.models import VolunteerStatus
from leifeng.teams import services
from leifeng.teams.models import (
    MEMBERSHIP_TRANSITIONS,
    MembershipStatus,
    Team,
    TeamCategory,
    TeamKind,
    TeamLevel,
    TeamMembership,
)
from leifeng.teams.services import TeamInput
from leifeng.testing import TeamFactory, VolunteerFactory, build_tree, make_user


@contextmanager
def refused(code: str, exc_type: type[ServiceError] = ServiceError):
    """The service refuses with this stable error code (messages are translated, codes are not)."""
    with pytest.raises(exc_type) as info:
        yield info
    assert info.value.code == code, info.value.message


def active_ids(team) -> set[int]:
    return set(
        TeamMembership.objects.filter(team=team, status=MembershipStatus.ACTIVE).values_list("volunteer_id", flat=True)
    )


def appoint(owner, team, leader=None, deputy=None):
    return services.team_set_leaders(
        actor=owner,
        team_id=team.pk,
        leader=leader.number if leader else None,
        deputy=deputy.number if deputy else None,
    )


# ---------------------------------------------------------------- creating and editing teams


def test_owner_creates_a_team_and_it_is_audited(tree, owner):
    team = services.team_create(
        actor=owner,
        data=TeamInput(
            org_id=tree.st_a1.pk,
            name=" 东关理论宣讲队 ",
            level=TeamLevel.SQUAD,
            category=TeamCategory.THEORY,
            kind=TeamKind.FIXED,
        ),
    )
    assert (team.name, team.org, team.kind, team.max_members) == ("东关理论宣讲队", tree.st_a1, "fixed", None)
    event = AuditEvent.objects.get(action="team.create")
    assert event.actor == owner and event.org == tree.st_a1 and event.object_id == str(team.pk)


def test_a_group_gets_the_size_limit_by_default_and_cannot_exceed_it(tree, colleague, settings):
    team = services.team_create(
        actor=colleague, data=TeamInput(org_id=tree.st_a1.pk, name="第一小组", level=TeamLevel.GROUP)
    )
    assert team.max_members == 8
    settings.TEAM_GROUP_SIZE_LIMIT = 6
    with pytest.raises(ValidationError) as exc:
        services.team_create(
            actor=colleague, data=TeamInput(org_id=tree.st_a1.pk, name="第二小组", level=TeamLevel.GROUP, max_members=7)
        )
    assert "max_members" in exc.value.error_dict


@pytest.mark.parametrize("limit", [0, -1])
def test_member_limit_must_be_positive(tree, owner, limit):
    with pytest.raises(ValidationError) as exc:
        services.team_create(actor=owner, data=TeamInput(org_id=tree.st_a1.pk, name="队", max_members=limit))
    assert "max_members" in exc.value.error_dict


def test_outsider_and_assessor_cannot_create_teams_at_the_owners_station(tree, outsider, assessor):
    for actor in (outsider, assessor):
        with pytest.raises(ValidationError) as exc:
            services.team_create(actor=actor, data=TeamInput(org_id=tree.st_a1.pk, name="越权的队"))
        assert "org" in exc.value.error_dict
    assert not Team.objects.exists()


def test_names_are_unique_per_org(tree, owner, center_admin, team):
    with pytest.raises(ValidationError) as exc:
        services.team_create(actor=owner, data=TeamInput(org_id=tree.st_a1.pk, name=team.name))
    assert "name" in exc.value.error_dict
    services.team_create(actor=center_admin, data=TeamInput(org_id=tree.st_a2.pk, name=team.name))


def test_parent_must_be_higher_and_at_the_same_org_or_above(tree, owner):
    corps = TeamFactory(org=tree.center, name="县志愿服务总队", level=TeamLevel.CORPS)
    brigade = TeamFactory(org=tree.sub_a, name="长安大队", level=TeamLevel.BRIGADE)
    sibling = TeamFactory(org=tree.st_a2, name="西街中队", level=TeamLevel.SQUADRON)
    squadron = services.team_create(
        actor=owner,
        data=TeamInput(org_id=tree.st_a1.pk, name="东关中队", level=TeamLevel.SQUADRON, parent_id=brigade.pk),
    )
    assert squadron.parent == brigade
    # skipping a level is fine: a squad directly under the county corps
    services.team_create(
        actor=owner, data=TeamInput(org_id=tree.st_a1.pk, name="东关小分队", level=TeamLevel.SQUAD, parent_id=corps.pk)
    )
    refused = [
        ("同级", TeamLevel.SQUADRON, squadron.pk),  # same level
        ("低级", TeamLevel.BRIGADE, squadron.pk),  # parent lower than child
        ("旁站", TeamLevel.GROUP, sibling.pk),  # another station
        ("不存在", TeamLevel.GROUP, 999999),
    ]
    for name, level, parent_id in refused:
        with pytest.raises(ValidationError) as exc:
            services.team_create(
                actor=owner, data=TeamInput(org_id=tree.st_a1.pk, name=name, level=level, parent_id=parent_id)
            )
        assert "parent" in exc.value.error_dict, name


def test_parent_at_a_lower_org_is_refused(tree, center_admin):
    low = TeamFactory(org=tree.st_a1, name="站级总队", level=TeamLevel.CORPS)
    with pytest.raises(ValidationError) as exc:
        services.team_create(
            actor=center_admin,
            data=TeamInput(org_id=tree.sub_a.pk, name="大队", level=TeamLevel.BRIGADE, parent_id=low.pk),
        )
    assert "parent" in exc.value.error_dict


def test_update_changes_fields_and_audits_the_diff(owner, team):
    services.team_update(actor=owner, team_id=team.pk, name="东关敬老中队", category=TeamCategory.HEALTH)
    team.refresh_from_db()
    assert (team.name, team.category) == ("东关敬老中队", "health")
    event = AuditEvent.objects.get(action="team.update")
    assert event.changes == {"name": ["东关孝老敬老中队", "东关敬老中队"], "category": ["elderly", "health"]}


def test_update_refuses_outsider_with_404_and_viewer_with_403(outsider, assessor, team):
    with pytest.raises(NotFound):
        services.team_update(actor=outsider, team_id=team.pk, name="x")
    with pytest.raises(PermissionDenied):
        services.team_update(actor=assessor, team_id=team.pk, name="x")
    team.refresh_from_db()
    assert team.name == "东关孝老敬老中队"


def test_update_keeps_the_hierarchy_consistent(tree, owner, team):
    TeamFactory(org=tree.st_a1, name="子小组", level=TeamLevel.GROUP, parent=team, max_members=8)
    with pytest.raises(ValidationError) as exc:
        services.team_update(actor=owner, team_id=team.pk, level=TeamLevel.GROUP)
    assert "level" in exc.value.error_dict


def test_update_to_group_sets_the_limit_and_never_below_the_roster(owner, team, make_volunteer):
    services.membership_add(actor=owner, team_id=team.pk, numbers=[make_volunteer().number for _ in range(3)])
    updated = services.team_update(actor=owner, team_id=team.pk, level=TeamLevel.GROUP)
    assert updated.max_members == 8
    with pytest.raises(ValidationError) as exc:
        services.team_update(actor=owner, team_id=team.pk, max_members=2)
    assert "max_members" in exc.value.error_dict
    # "no limit" does not exist for a group: it falls back to the group size limit
    assert services.team_update(actor=owner, team_id=team.pk, max_members=None).max_members == 8


def test_moving_a_team_needs_change_rights_at_the_new_org(tree, owner, center_admin, team):
    with pytest.raises(ValidationError) as exc:
        services.team_update(actor=owner, team_id=team.pk, org_id=tree.st_b1.pk)
    assert "org" in exc.value.error_dict
    moved = services.team_update(actor=center_admin, team_id=team.pk, org_id=tree.st_a2.pk)
    assert moved.org == tree.st_a2


# ---------------------------------------------------------------- leader and deputy


def test_leader_and_deputy_become_members_and_the_leader_gets_the_role(tree, owner, team, make_volunteer):
    leader, deputy = make_volunteer(), make_volunteer()
    appoint(owner, team, leader, deputy)
    team.refresh_from_db()
    assert (team.leader, team.deputy) == (leader, deputy)
    assert active_ids(team) == {leader.pk, deputy.pk}
    assert RoleAssignment.objects.filter(user=leader.user, role=Role.TEAM_LEADER, org=tree.st_a1).exists()
    assert not RoleAssignment.objects.filter(user=deputy.user).exists()
    appoint(owner, team, leader, deputy)  # again: no duplicate role, no error
    assert RoleAssignment.objects.filter(user=leader.user, role=Role.TEAM_LEADER).count() == 1
    assert AuditEvent.objects.filter(action="team.set_leaders").count() == 2


def test_leaders_must_be_approved_distinct_and_from_the_team_subtree(tree, owner, center_admin, team, make_volunteer):
    pending = make_volunteer(status=VolunteerStatus.PENDING)
    other_station = make_volunteer(org=tree.st_a2)
    someone = make_volunteer()
    with refused("not_approved"):
        appoint(owner, team, pending)
    with refused("outside_team_org"):  # the center sees 西街, but the team is at 东关
        appoint(center_admin, team, other_station)
    with pytest.raises(ValidationError) as exc:  # out of the owner's scope: looks like a wrong number
        appoint(owner, team, other_station)
    assert "leader" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        appoint(owner, team, someone, someone)
    assert "deputy" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.team_set_leaders(actor=owner, team_id=team.pk, leader="NOPE")
    assert "leader" in exc.value.error_dict
    assert active_ids(team) == set()


def test_only_staff_with_change_appoint_leaders(owner, assessor, outsider, team, make_volunteer):
    leader = make_volunteer()
    appoint(owner, team, leader)
    with pytest.raises(PermissionDenied):  # the leader runs the roster, not the appointments
        services.team_set_leaders(actor=leader.user, team_id=team.pk, deputy=make_volunteer().number)
    with pytest.raises(PermissionDenied):
        appoint(assessor, team, make_volunteer())
    with pytest.raises(NotFound):
        appoint(outsider, team, make_volunteer())


def test_appointing_a_leader_respects_a_full_group(owner, group, make_volunteer):
    services.membership_add(actor=owner, team_id=group.pk, numbers=[make_volunteer().number for _ in range(8)])
    with refused("team_full", Conflict):
        appoint(owner, group, make_volunteer())
    member = TeamMembership.objects.filter(team=group).first().volunteer
    appoint(owner, group, member)  # a member can lead without taking a ninth place
    group.refresh_from_db()
    assert group.leader == member and len(active_ids(group)) == 8


# ---------------------------------------------------------------- join requests


def test_volunteer_asks_to_join_and_a_duplicate_is_refused(team, make_volunteer):
    v = make_volunteer()
    m = services.membership_request(actor=v.user, team_id=team.pk, message="我想参加")
    assert (m.status, m.message) == (MembershipStatus.PENDING, "我想参加")
    with refused("already_requested", Conflict) as exc:
        services.membership_request(actor=v.user, team_id=team.pk)
    assert exc.value.message == "您已申请加入该队伍，队长尚未答复。"  # clear, in the default language
    assert TeamMembership.objects.filter(team=team).count() == 1
    assert AuditEvent.objects.filter(action="membership.request").count() == 1


def test_volunteers_may_join_teams_of_their_station_and_above_only(tree, center_admin, make_volunteer):
    v = make_volunteer(org=tree.st_a1)
    above = TeamFactory(org=tree.sub_a, name="长安大队", level=TeamLevel.BRIGADE)
    county = TeamFactory(org=tree.center, name="县总队", level=TeamLevel.CORPS)
    sibling = TeamFactory(org=tree.st_a2, name="西街中队")
    elsewhere = TeamFactory(org=tree.st_b1, name="北村中队")
    for t in (above, county):
        assert services.membership_request(actor=v.user, team_id=t.pk).status == MembershipStatus.PENDING
    for t in (sibling, elsewhere):
        with pytest.raises(NotFound):
            services.membership_request(actor=v.user, team_id=t.pk)


def test_unapproved_volunteers_and_staff_without_a_profile_cannot_ask(owner, team, make_volunteer):
    pending = make_volunteer(status=VolunteerStatus.PENDING)
    with pytest.raises(NotFound):  # an unapproved registration sees no teams to join
        services.membership_request(actor=pending.user, team_id=team.pk)
    with refused("not_a_volunteer"):
        services.membership_request(actor=owner, team_id=team.pk)


def test_member_cannot_ask_again_and_a_full_team_takes_no_requests(owner, group, make_volunteer):
    members = [make_volunteer() for _ in range(8)]
    services.membership_add(actor=owner, team_id=group.pk, numbers=[v.number for v in members])
    with refused("already_member", Conflict):
        services.membership_request(actor=members[0].user, team_id=group.pk)
    with refused("team_full", Conflict):
        services.membership_request(actor=make_volunteer().user, team_id=group.pk)


def test_inactive_team_takes_no_requests_and_no_additions(owner, team, make_volunteer):
    services.team_update(actor=owner, team_id=team.pk, is_active=False)
    with pytest.raises(NotFound):
        services.membership_request(actor=make_volunteer().user, team_id=team.pk)
    with refused("team_inactive"):
        services.membership_add(actor=owner, team_id=team.pk, numbers=[make_volunteer().number])


# ---------------------------------------------------------------- deciding on requests


@pytest.fixture
def led_team(owner, team, make_volunteer):
    """The team with a leader and a deputy who have accounts, and one open request."""
    leader, deputy = make_volunteer(name="队长"), make_volunteer(name="副队长")
    appoint(owner, team, leader, deputy)
    team.refresh_from_db()
    applicant = make_volunteer(name="申请人")
    request = services.membership_request(actor=applicant.user, team_id=team.pk)
    return team, leader, deputy, applicant, request


@pytest.mark.parametrize("who", ["leader", "deputy", "owner", "colleague"])
def test_leader_deputy_and_staff_approve(who, led_team, owner, colleague):
    team, leader, deputy, applicant, request = led_team
    actor = {"leader": leader.user, "deputy": deputy.user, "owner": owner, "colleague": colleague}[who]
    m = services.membership_approve(actor=actor, team_id=team.pk, membership_id=request.pk)
    assert (m.status, m.decided_by) == (MembershipStatus.ACTIVE, actor)
    assert applicant.pk in active_ids(team)
    assert AuditEvent.objects.get(action="membership.approve").changes["status"] == ["pending", "active"]


def test_members_viewers_and_outsiders_cannot_decide(led_team, assessor, outsider, make_volunteer):
    team, leader, _deputy, _applicant, request = led_team
    plain_member = make_volunteer()
    services.membership_add(actor=leader.user, team_id=team.pk, numbers=[plain_member.number])
    for actor in (plain_member.user, assessor):
        with pytest.raises(PermissionDenied):
            services.membership_approve(actor=actor, team_id=team.pk, membership_id=request.pk)
    with pytest.raises(NotFound):
        services.membership_approve(actor=outsider, team_id=team.pk, membership_id=request.pk)
    request.refresh_from_db()
    assert request.status == MembershipStatus.PENDING


def test_a_leader_decides_only_for_their_own_team(tree, led_team, make_volunteer):
    team, leader, *_ = led_team
    other = TeamFactory(org=tree.sub_a, name="长安大队", level=TeamLevel.BRIGADE)
    other_request = services.membership_request(actor=make_volunteer().user, team_id=other.pk)
    with pytest.raises(PermissionDenied):  # visible (it is above their station) but not theirs
        services.membership_approve(actor=leader.user, team_id=other.pk, membership_id=other_request.pk)
    with pytest.raises(NotFound):  # the request does not belong to the team in the address
        services.membership_approve(actor=leader.user, team_id=team.pk, membership_id=other_request.pk)


def test_reject_needs_a_reason_and_the_volunteer_may_ask_again(led_team):
    team, leader, _deputy, applicant, request = led_team
    with pytest.raises(ValidationError) as exc:
        services.membership_reject(actor=leader.user, team_id=team.pk, membership_id=request.pk, reason=" ")
    assert "reason" in exc.value.error_dict
    m = services.membership_reject(actor=leader.user, team_id=team.pk, membership_id=request.pk, reason="本期已满")
    assert (m.status, m.reason) == (MembershipStatus.REJECTED, "本期已满")
    with pytest.raises(Conflict):
        services.membership_approve(actor=leader.user, team_id=team.pk, membership_id=request.pk)
    again = services.membership_request(actor=applicant.user, team_id=team.pk, message="再次申请")
    assert (again.pk, again.status, again.reason) == (request.pk, MembershipStatus.PENDING, "")


def test_approval_is_refused_when_the_group_is_full(owner, group, make_volunteer):
    applicant = make_volunteer()
    request = services.membership_request(actor=applicant.user, team_id=group.pk)
    services.membership_add(actor=owner, team_id=group.pk, numbers=[make_volunteer().number for _ in range(8)])
    with refused("team_full", Conflict):
        services.membership_approve(actor=owner, team_id=group.pk, membership_id=request.pk)
    request.refresh_from_db()
    assert request.status == MembershipStatus.PENDING


# ---------------------------------------------------------------- adding, removing, leaving


def test_staff_add_many_at_once_and_open_requests_become_memberships(owner, team, make_volunteer):
    requester = make_volunteer()
    services.membership_request(actor=requester.user, team_id=team.pk)
    others = [make_volunteer(account=False) for _ in range(3)]
    added = services.membership_add(
        actor=owner, team_id=team.pk, numbers=[requester.number, *(v.number.lower() for v in others)]
    )
    assert [m.volunteer for m in added] == [requester, *others]
    assert active_ids(team) == {requester.pk, *(v.pk for v in others)}
    again = services.membership_add(actor=owner, team_id=team.pk, numbers=[requester.number])  # already in: no-op
    assert again[0].status == MembershipStatus.ACTIVE
    assert AuditEvent.objects.filter(action="membership.add").count() == 4


def test_adding_is_all_or_nothing(tree, owner, group, make_volunteer):
    services.membership_add(actor=owner, team_id=group.pk, numbers=[make_volunteer().number for _ in range(6)])
    three = [make_volunteer().number for _ in range(3)]
    with refused("team_full", Conflict):
        services.membership_add(actor=owner, team_id=group.pk, numbers=three)
    assert len(active_ids(group)) == 6
    with pytest.raises(ValidationError, match="NOPE"):
        services.membership_add(actor=owner, team_id=group.pk, numbers=[three[0], "nope"])
    with refused("not_approved"):
        services.membership_add(
            actor=owner, team_id=group.pk, numbers=[three[0], make_volunteer(status=VolunteerStatus.SUSPENDED).number]
        )
    assert len(active_ids(group)) == 6


def test_staff_cannot_add_volunteers_outside_their_scope_or_the_team_subtree(tree, owner, center_admin, team):
    far = VolunteerFactory(org=tree.st_b1)
    with pytest.raises(ValidationError):  # out of the owner's scope: looks like a wrong number
        services.membership_add(actor=owner, team_id=team.pk, numbers=[far.number])
    with refused("outside_team_org"):  # the center sees them, but the team is at 东关
        services.membership_add(actor=center_admin, team_id=team.pk, numbers=[far.number])
    assert active_ids(team) == set()


def test_a_leader_adds_volunteers_of_the_team_subtree(tree, make_volunteer):
    brigade = TeamFactory(org=tree.sub_a, name="长安大队", level=TeamLevel.BRIGADE)
    leader = make_volunteer(org=tree.st_a1)
    sub_admin = make_user("subadmin", role=Role.ORG_ADMIN, org=tree.sub_a)
    appoint(sub_admin, brigade, leader)
    west = make_volunteer(org=tree.st_a2)  # not in the leader's station, but in the brigade's subtree
    services.membership_add(actor=leader.user, team_id=brigade.pk, numbers=[west.number])
    assert west.pk in active_ids(brigade)
    far = make_volunteer(org=tree.st_b1, name="远方")
    with pytest.raises(ValidationError) as exc:  # beyond the team's subtree: not even the name is told
        services.membership_add(actor=leader.user, team_id=brigade.pk, numbers=[far.number])
    assert "远方" not in str(exc.value) and far.number in str(exc.value)


def test_leader_removes_a_member_and_a_removed_leader_steps_down(led_team, owner):
    team, leader, deputy, applicant, request = led_team
    services.membership_approve(actor=leader.user, team_id=team.pk, membership_id=request.pk)
    m = services.membership_remove(actor=leader.user, team_id=team.pk, membership_id=request.pk, reason="长期未参加")
    assert (m.status, m.reason) == (MembershipStatus.LEFT, "长期未参加")
    with pytest.raises(Conflict):
        services.membership_remove(actor=leader.user, team_id=team.pk, membership_id=request.pk)
    deputy_row = TeamMembership.objects.get(team=team, volunteer=deputy)
    services.membership_remove(actor=owner, team_id=team.pk, membership_id=deputy_row.pk)
    team.refresh_from_db()
    assert team.deputy is None and team.leader == leader


def test_members_may_always_leave_even_the_leader(led_team):
    team, leader, _deputy, applicant, request = led_team
    withdrawn = services.membership_leave(actor=applicant.user, team_id=team.pk)
    assert withdrawn.status == MembershipStatus.LEFT
    left = services.membership_leave(actor=leader.user, team_id=team.pk)
    assert left.status == MembershipStatus.LEFT
    team.refresh_from_db()
    assert team.leader is None
    assert {e.action for e in AuditEvent.objects.filter(action__startswith="membership.")} >= {
        "membership.withdraw",
        "membership.leave",
    }
    with refused("not_member", Conflict):
        services.membership_leave(actor=leader.user, team_id=team.pk)
    # and they may come back
    assert services.membership_request(actor=leader.user, team_id=team.pk).status == MembershipStatus.PENDING


def test_leaving_works_after_the_team_is_closed(owner, team, make_volunteer):
    v = make_volunteer()
    services.membership_add(actor=owner, team_id=team.pk, numbers=[v.number])
    services.team_update(actor=owner, team_id=team.pk, is_active=False)
    assert services.membership_leave(actor=v.user, team_id=team.pk).status == MembershipStatus.LEFT


def test_every_status_move_goes_through_the_table(team, make_volunteer):
    m = TeamMembership(team=team, volunteer=make_volunteer())
    for source in MembershipStatus.values:
        for target in MembershipStatus.values:
            m.status = source
            if target in MEMBERSHIP_TRANSITIONS[source]:
                services._move(m, target)
                assert m.status == target
            else:
                with pytest.raises(Conflict):
                    services._move(m, target)
    # a member or applicant can always get out: nobody is held in a team
    assert MembershipStatus.LEFT in MEMBERSHIP_TRANSITIONS[MembershipStatus.ACTIVE]
    assert MembershipStatus.LEFT in MEMBERSHIP_TRANSITIONS[MembershipStatus.PENDING]


# ---------------------------------------------------------------- the size limit under concurrency


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_joins_leave_exactly_eight_in_a_group():
    """20 threads, each with its own connection, add one volunteer each to a group of 8 at the same time."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks only mean something on PostgreSQL")
    tree = build_tree()
    owner = make_user("owner", role=Role.ORG_ADMIN, org=tree.st_a1)
    group = TeamFactory(org=tree.st_a1, name="并发小组", level=TeamLevel.GROUP, max_members=8)
    leader = VolunteerFactory(org=tree.st_a1, user=make_user("leader"))
    appoint(owner, group, leader)  # 1 member already; the leader approves the rest
    applicants = [VolunteerFactory(org=tree.st_a1, user=make_user(f"a{i}")) for i in range(20)]
    requests = [services.membership_request(actor=v.user, team_id=group.pk) for v in applicants[:10]]
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def join(i: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection as thread_connection

        try:
            actor = get_user_model().objects.get(pk=(leader.user if i % 2 else owner).pk)
            barrier.wait(timeout=30)
            try:
                if i < 10:  # half approve an open request, half add directly
                    services.membership_approve(actor=actor, team_id=group.pk, membership_id=requests[i].pk)
                else:
                    services.membership_add(actor=actor, team_id=group.pk, numbers=[applicants[i].number])
                result = "ok"
            except Conflict as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=join, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 20
    assert outcomes.count("ok") == 7 and outcomes.count("team_full") == 13
    assert TeamMembership.objects.filter(team=group, status=MembershipStatus.ACTIVE).count() == 8


def test_a_refused_move_says_both_statuses_in_the_page_language(team, make_volunteer):
    """The table is core.transitions.Transitions; the message keeps the catalog's wording in both languages."""
    assert isinstance(MEMBERSHIP_TRANSITIONS, Transitions)
    m = TeamMembership(team=team, volunteer=make_volunteer(), status=MembershipStatus.ACTIVE)
    with translation.override("en"), pytest.raises(Conflict) as exc:
        services._move(m, MembershipStatus.PENDING)
    assert exc.value.message == "A membership that is “Member” cannot become “Requested”."
    assert exc.value.code == "invalid_transition" and m.status == MembershipStatus.ACTIVE
    with translation.override("zh-hans"), pytest.raises(Conflict) as exc:
        services._move(m, MembershipStatus.PENDING)
    assert exc.value.message.startswith("状态为“") and "%(" not in exc.value.message
