"""The closed loop through the services: every transition, deadlines with a controllable clock, decline, scope."""

import contextlib
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.errors import ErrorCode as CoreCode
from leifeng.hours.models import ServiceRecord
from leifeng.orders import selectors, services
from leifeng.orders.models import (
    ORDER_TRANSITIONS,
    Assignment,
    AssignmentStatus,
    DispatchMode,
    Order,
    OrderEvent,
    OrderStatus,
)
from leifeng.orders.tests.factories import T0, leader_with_team, menu_item, order_in, order_input, submit
from leifeng.teams.models import TeamCategory

S = OrderStatus
REFUSED = (Conflict, NotFound, PermissionDenied, ServiceError, ValidationError)


# ---------------------------------------------------------------- every allowed and forbidden transition


@pytest.mark.parametrize("status", S.values)
def test_the_services_make_exactly_the_moves_of_the_transition_table(status, tree, owner, crew, point):
    """From each status, try every action there is; the statuses reached must be exactly ORDER_TRANSITIONS."""
    leader, team = crew
    order = order_in(status, tree=tree, staff=owner, leader=leader, team=team)
    other = submit(tree.st_a1, resident_phone="13700000001", description="另一单")
    now = T0 + timedelta(days=1)
    actions = {
        "accept": lambda: services.order_accept(actor=owner, order_id=order.pk, now=now),
        "reject": lambda: services.order_reject(actor=owner, order_id=order.pk, reason="超出范围", now=now),
        "merge": lambda: services.order_merge(actor=owner, order_id=order.pk, into_id=other.pk, now=now),
        "pass_up": lambda: services.order_pass_up(actor=owner, order_id=order.pk, note="需要街道协调", now=now),
        "cancel_staff": lambda: services.order_cancel(actor=owner, order_id=order.pk, reason="居民来电撤销", now=now),
        "cancel_resident": lambda: services.order_cancel(token=order.token, now=now),
        "dispatch": lambda: services.order_dispatch(actor=owner, order_id=order.pk, team_id=team.pk, now=now),
        "push_down": lambda: services.order_push_down(actor=owner, order_id=order.pk, org_id=point.pk, now=now),
        "open_grab": lambda: services.order_open_grab(actor=owner, order_id=order.pk, now=now),
        "grab": lambda: services.order_grab(actor=leader, order_id=order.pk, team_id=team.pk, now=now),
        "recall": lambda: services.order_recall(actor=owner, order_id=order.pk, reason="改派", now=now),
        "take": lambda: services.order_take(actor=leader, order_id=order.pk, now=now),
        "decline": lambda: services.order_decline(actor=leader, order_id=order.pk, reason="人手不够", now=now),
        "decline_leaving_an_offer": lambda: _decline_while_another_holds_an_offer(order, leader, tree, now),
        "complete": lambda: services.order_complete(
            actor=leader, order_id=order.pk, data=services.CompletionInput(notes="完成", minutes=60), now=now
        ),
        "rate_high": lambda: services.order_rate(token=order.token, rating=5, now=now),
        "rate_low": lambda: services.order_rate(token=order.token, rating=2, comment="态度一般", now=now),
        "follow_up_close": lambda: services.order_follow_up(actor=owner, order_id=order.pk, note="已回访", now=now),
        "redo": lambda: services.order_follow_up(actor=owner, order_id=order.pk, note="重新派单", redo=True, now=now),
        "auto_close": lambda: services.orders_escalate_overdue(now=now + timedelta(days=30)),
    }
    reached: dict[str, str] = {}
    for name, call in actions.items():
        sid = transaction.savepoint_create()
        last = OrderEvent.objects.filter(order=order).order_by("-id").values_list("id", flat=True).first()
        with contextlib.suppress(*REFUSED):
            call()
        moves = OrderEvent.objects.filter(order=order, id__gt=last, from_status=status).exclude(
            action__in=["escalated", "reminded"]
        )
        for to in moves.values_list("to_status", flat=True):
            reached[to] = name
        assert Order.objects.get(pk=order.pk).status in ORDER_TRANSITIONS[status] | {status}
        transaction.savepoint_rollback(sid)
    assert set(reached) == ORDER_TRANSITIONS[status], reached


def _decline_while_another_holds_an_offer(order, leader, tree, now):
    """Everybody who accepted gives up while somebody else still holds an offer (of several named assignees; only
    an order in service has both), then the leader declines."""
    if Order.objects.get(pk=order.pk).status == S.TAKEN:
        other = testing.VolunteerFactory(org=tree.st_a1, name="志愿者乙")
        Assignment.objects.create(order=order, volunteer=other, mode=DispatchMode.DIRECT)
    return services.order_decline(actor=leader, order_id=order.pk, reason="临时有事", now=now)


def test_a_refused_move_changes_nothing_and_says_why(tree, owner, crew):
    leader, team = crew
    order = order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    with pytest.raises(Conflict) as exc:
        services.order_accept(actor=owner, order_id=order.pk, now=T0)
    assert exc.value.code == "invalid_transition"
    assert exc.value.message
    assert Order.objects.get(pk=order.pk).status == S.CLOSED


# ---------------------------------------------------------------- 点单


def test_submission_is_idempotent(tree):
    first, created = services.order_submit(data=order_input(tree.st_a1, idempotency_key="abc-1"), now=T0)
    again, created_again = services.order_submit(data=order_input(tree.st_a1, idempotency_key="abc-1"), now=T0)
    assert created and not created_again
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert OrderEvent.objects.filter(order=first).count() == 1


def test_same_phone_same_item_still_open_is_flagged_as_possible_duplicate(tree):
    item = menu_item(tree.st_a1)
    first = submit(tree.st_a1, menu_item_id=item.pk, resident_phone="+86 139-1234-5678")
    second = submit(tree.st_a1, menu_item_id=item.pk, resident_phone="13912345678")
    other_item = submit(tree.st_a1, resident_phone="13912345678", description="别的事")
    assert second.resident_phone == "13912345678"
    assert second.duplicate_of == first
    assert other_item.duplicate_of is None
    assert f"D{first.pk:06d}" in OrderEvent.objects.get(order=second).note
    # once the first is closed for good, the same order is no longer a duplicate
    services.order_reject(
        actor=testing.make_user("boss", role=Role.ORG_ADMIN, org=tree.st_a1), order_id=first.pk, reason="x"
    )
    third = submit(tree.st_a1, menu_item_id=item.pk)
    assert third.duplicate_of == second


def test_bad_input_is_refused_naming_each_field(tree):
    with pytest.raises(ValidationError) as exc:
        services.order_submit(
            data=services.OrderInput(
                org_id=tree.st_a1.pk,
                resident_name="",
                resident_phone="12345",
                address="",
                description="",
                latitude="91",
            )
        )
    fields = exc.value.message_dict
    assert {"resident_name", "resident_phone", "description", "latitude"} <= set(fields)
    assert Order.objects.count() == 0


def test_a_map_point_replaces_the_address_and_menus_come_from_the_station_and_above(tree):
    upper = menu_item(tree.sub_a, title="法律援助", category=TeamCategory.LEGAL)
    foreign = menu_item(tree.st_b1, title="义诊", category=TeamCategory.HEALTH)
    order = submit(tree.st_a1, address="", latitude="34.2658", longitude="108.9541", menu_item_id=upper.pk)
    assert order.category == TeamCategory.LEGAL and order.latitude is not None
    with pytest.raises(ValidationError) as exc:
        submit(tree.st_a1, menu_item_id=foreign.pk)
    assert "menu_item" in exc.value.message_dict
    assert [m.title for m in selectors.menu_for(tree.st_a1)] == ["法律援助"]


def test_staff_enter_orders_for_residents_with_the_channel_but_only_at_their_nodes(tree, owner, outsider):
    order, _ = services.order_submit(actor=owner, data=order_input(tree.st_a1, channel="phone"), now=T0)
    assert order.channel == "phone" and order.entered_by == owner
    with pytest.raises(ValidationError) as exc:
        services.order_submit(actor=outsider, data=order_input(tree.st_a1, channel="phone"), now=T0)
    assert "org" in exc.value.message_dict
    # a resident on the public page cannot claim another channel
    public, _ = services.order_submit(data=order_input(tree.st_a1, channel="desk", description="x"), now=T0)
    assert public.channel == "web"


# ---------------------------------------------------------------- 审单


def test_rejection_reason_is_kept_for_the_resident(tree, owner):
    order = submit(tree.st_a1)
    with pytest.raises(ValidationError):
        services.order_reject(actor=owner, order_id=order.pk, reason=" ")
    services.order_reject(actor=owner, order_id=order.pk, reason="请联系物业", now=T0)
    order.refresh_from_db()
    assert order.status == S.REJECTED and order.reason == "请联系物业"
    assert selectors.order_events(order=order, public_only=True).last().note == "请联系物业"


def test_pass_up_moves_the_order_to_the_sub_center_and_the_station_still_sees_it(tree, owner, colleague):
    order = submit(tree.st_a1)
    services.order_pass_up(actor=owner, order_id=order.pk, note="需要街道协调", now=T0)
    order.refresh_from_db()
    assert order.org == tree.sub_a and order.status == S.SUBMITTED
    assert order in selectors.order_list(actor=colleague)
    with pytest.raises(PermissionDenied):  # seen, but the sub-center runs it now
        services.order_accept(actor=owner, order_id=order.pk)


def test_level_by_level_from_center_to_station(tree, center_admin, owner, crew):
    leader, team = crew
    order = submit(tree.st_a1)
    services.order_pass_up(actor=owner, order_id=order.pk, note="超出能力", now=T0)
    services.order_pass_up(
        actor=testing.make_user("sub", role=Role.ORG_ADMIN, org=tree.sub_a), order_id=order.pk, note="上报中心", now=T0
    )
    services.order_accept(actor=center_admin, order_id=order.pk, now=T0)
    services.order_push_down(actor=center_admin, order_id=order.pk, org_id=tree.sub_a.pk, now=T0)
    with pytest.raises(ValidationError):  # only below the node
        services.order_push_down(actor=center_admin, order_id=order.pk, org_id=tree.st_b1.pk, now=T0)
    services.order_push_down(actor=center_admin, order_id=order.pk, org_id=tree.st_a1.pk, now=T0)
    services.order_dispatch(actor=owner, order_id=order.pk, team_id=team.pk, now=T0)
    order.refresh_from_db()
    assert order.org == tree.st_a1 and order.status == S.DISPATCHED and order.dispatch_mode == "level_by_level"
    actions = list(OrderEvent.objects.filter(order=order).values_list("action", flat=True))
    assert actions == ["submitted", "passed_up", "passed_up", "accepted", "pushed_down", "pushed_down", "dispatched"]


# ---------------------------------------------------------------- 派单, 接单


def test_decline_returns_the_order_to_dispatch_with_the_reason(tree, owner, crew):
    leader, team = crew
    order = order_in(S.DISPATCHED, tree=tree, staff=owner, leader=leader, team=team)
    with pytest.raises(ValidationError) as exc:
        services.order_decline(actor=leader, order_id=order.pk, reason="")
    assert "reason" in exc.value.message_dict
    services.order_decline(actor=leader, order_id=order.pk, reason="本周人手不够", now=T0 + timedelta(hours=5))
    order.refresh_from_db()
    assert order.status == S.ACCEPTED and order.team is None
    assert order.assignments.get().status == AssignmentStatus.DECLINED
    event = OrderEvent.objects.filter(order=order).last()
    assert event.action == "declined" and "本周人手不够" in event.note
    # and it can be dispatched again, to named volunteers this time
    member = team.memberships.exclude(volunteer__user=leader).get().volunteer
    services.order_dispatch(actor=owner, order_id=order.pk, volunteer_ids=[member.pk], now=T0 + timedelta(hours=6))
    assert Order.objects.get(pk=order.pk).status == S.DISPATCHED


def test_an_accepted_order_may_still_be_given_up(tree, owner, crew):
    leader, team = crew
    order = order_in(S.TAKEN, tree=tree, staff=owner, leader=leader, team=team)
    services.order_decline(actor=leader, order_id=order.pk, reason="家中有急事", now=T0 + timedelta(hours=6))
    assert Order.objects.get(pk=order.pk).status == S.ACCEPTED


def test_when_the_one_who_accepted_gives_up_the_order_waits_for_the_other_offers(tree, owner, crew):
    """Two named volunteers are offered the order; one accepts and then gives up: the order goes back to
    awaiting acceptance (taken → dispatched, a move of the transition table) with an event and an audit row."""
    from leifeng.core.models import AuditEvent

    leader, team = crew
    order = order_in(S.ACCEPTED, tree=tree, staff=owner, leader=leader, team=team)
    first = testing.make_volunteer_user("vol_first", org=tree.st_a1, display_name="志愿者甲")
    second = testing.VolunteerFactory(org=tree.st_a1, name="志愿者乙")
    services.order_dispatch(
        actor=owner, order_id=order.pk, volunteer_ids=[first.volunteer.pk, second.pk], now=T0 + timedelta(hours=2)
    )
    services.order_take(actor=first, order_id=order.pk, now=T0 + timedelta(hours=3))
    assert Order.objects.get(pk=order.pk).status == S.TAKEN
    services.order_decline(actor=first, order_id=order.pk, reason="临时有事", now=T0 + timedelta(hours=4))
    order.refresh_from_db()
    assert order.status == S.DISPATCHED and order.taken_at is None
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.action, event.from_status, event.to_status) == ("declined", S.TAKEN, S.DISPATCHED)
    audit = AuditEvent.objects.filter(action="order.declined", object_id=str(order.pk)).get()
    assert audit.changes == {"status": ["taken", "dispatched"]}
    # an answer once given cannot be given again: the assignment table refuses it
    with pytest.raises(NotFound):  # nothing left to answer for this volunteer
        services.order_take(actor=first, order_id=order.pk, now=T0 + timedelta(hours=5))


def test_the_assignment_table_refuses_a_second_answer(tree, owner, crew):
    from leifeng.orders.services.assignments import _set_assignment

    leader, team = crew
    order = order_in(S.TAKEN, tree=tree, staff=owner, leader=leader, team=team)
    a = order.assignments.get()
    with pytest.raises(Conflict) as exc, translation.override("en"):
        _set_assignment(a, AssignmentStatus.DECLINED, actor=leader, now=T0)
    assert exc.value.code == "invalid_transition" and exc.value.message == "This answer was already given."
    assert order.assignments.get().status == AssignmentStatus.ACCEPTED


def test_the_order_table_refuses_a_move_through_move(tree, owner, crew):
    from leifeng.orders.codes import EventAction
    from leifeng.orders.services.common import _move

    leader, team = crew
    order = order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    events = OrderEvent.objects.filter(order=order).count()
    with pytest.raises(Conflict) as exc, translation.override("en"):
        _move(order, S.ACCEPTED, actor=owner, action=EventAction.REDO, now=T0)
    assert exc.value.code == "invalid_transition"
    assert exc.value.message == "An order that is “Closed” cannot become “Awaiting dispatch”."
    assert Order.objects.get(pk=order.pk).status == S.CLOSED
    assert OrderEvent.objects.filter(order=order).count() == events


def test_only_the_assignee_answers_and_outsiders_see_nothing(tree, owner, colleague, outsider, crew):
    leader, team = crew
    stranger, _ = leader_with_team(tree, "stranger", org=tree.st_a2)
    order = order_in(S.DISPATCHED, tree=tree, staff=owner, leader=leader, team=team)
    for actor in (stranger, owner, outsider):
        with pytest.raises(NotFound):
            services.order_take(actor=actor, order_id=order.pk)
    with pytest.raises(NotFound):
        services.order_recall(actor=outsider, order_id=order.pk, reason="x")
    services.order_recall(actor=colleague, order_id=order.pk, reason="改派", now=T0 + timedelta(hours=3))
    assert Order.objects.get(pk=order.pk).status == S.ACCEPTED


def test_dispatch_only_to_teams_on_the_orders_line_of_the_tree(tree, owner, crew):
    leader, team = crew
    _, far = leader_with_team(tree, "far", org=tree.st_b1)
    order = order_in(S.ACCEPTED, tree=tree, staff=owner, leader=leader, team=team)
    with pytest.raises(ValidationError) as exc:
        services.order_dispatch(actor=owner, order_id=order.pk, team_id=far.pk)
    assert "team" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.order_dispatch(actor=owner, order_id=order.pk, promised_by=T0 - timedelta(days=1), team_id=team.pk)


def test_grab_first_leader_wins_and_category_must_match(tree, owner, crew):
    leader, team = crew
    second, other_team = leader_with_team(tree, "second", org=tree.sub_a)
    _, legal = leader_with_team(tree, "lawyer", category=TeamCategory.LEGAL)
    item = menu_item(tree.st_a1)
    order = order_in(S.OPEN, tree=tree, staff=owner, leader=leader, team=team, menu_item_id=item.pk)
    assert [o.pk for o in selectors.grabbable(actor=second)] == [order.pk]
    lawyer = legal.leader.user
    assert selectors.grabbable(actor=lawyer) == []
    with pytest.raises(NotFound):
        services.order_grab(actor=lawyer, order_id=order.pk, team_id=legal.pk)
    services.order_grab(actor=second, order_id=order.pk, team_id=other_team.pk, now=T0 + timedelta(hours=2))
    with pytest.raises(Conflict) as exc:
        services.order_grab(actor=leader, order_id=order.pk, team_id=team.pk)
    assert exc.value.code == "already_taken"
    order.refresh_from_db()
    assert order.status == S.TAKEN and order.team == other_team


def test_completion_writes_verified_hours_for_each_server(tree, owner, crew):
    leader, team = crew
    order = order_in(S.TAKEN, tree=tree, staff=owner, leader=leader, team=team)
    member = team.memberships.exclude(volunteer__user=leader).get().volunteer
    outsider_vol = testing.VolunteerFactory(org=tree.st_b1)
    bad = services.CompletionInput(notes="", minutes=0, volunteer_ids=[outsider_vol.pk])
    with pytest.raises(ValidationError) as exc:
        services.order_complete(actor=leader, order_id=order.pk, data=bad)
    assert {"notes", "minutes", "volunteers"} <= set(exc.value.message_dict)
    ids = [team.leader_id, member.pk]
    data = services.CompletionInput(notes="更换了水龙头", minutes=90, volunteer_ids=ids)
    services.order_complete(actor=leader, order_id=order.pk, data=data, now=T0 + timedelta(hours=8))
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.minutes_served == 180
    records = ServiceRecord.objects.filter(source="order", source_id=str(order.pk))
    assert sorted(records.values_list("volunteer_id", "minutes", "kind")) == sorted([(v, 90, "verified") for v in ids])
    assert all(r.org_id == tree.st_a1.pk for r in records)


# ---------------------------------------------------------------- 评单


def test_low_rating_opens_a_follow_up_and_rating_twice_is_refused(tree, owner, crew):
    leader, team = crew
    order = order_in(S.COMPLETED, tree=tree, staff=owner, leader=leader, team=team)
    with pytest.raises(ValidationError):
        services.order_rate(token=order.token, rating=6)
    with pytest.raises(NotFound):
        services.order_rate(token="wrong", rating=5)
    services.order_rate(token=order.token, rating=2, comment="来晚了", now=T0 + timedelta(days=1))
    order.refresh_from_db()
    assert order.status == S.FOLLOW_UP and order.rating == 2
    assert order in selectors.order_list(actor=owner, filters=selectors.OrderFilters(status=S.FOLLOW_UP))
    with pytest.raises(Conflict) as exc:
        services.order_rate(token=order.token, rating=5)
    assert exc.value.code == CoreCode.INVALID_TRANSITION
    services.order_follow_up(actor=owner, order_id=order.pk, note="已电话致歉", now=T0 + timedelta(days=2))
    assert Order.objects.get(pk=order.pk).status == S.CLOSED


# ---------------------------------------------------------------- deadlines with a controllable clock


def test_unanswered_dispatch_is_reminded_then_escalated_level_by_level(tree, owner, crew):
    leader, team = crew
    sub_staff = testing.make_user("substaff", role=Role.ORG_STAFF, org=tree.sub_a)
    order = order_in(S.DISPATCHED, tree=tree, staff=owner, leader=leader, team=team)
    dispatched = order.dispatched_at
    assert order.accept_by == dispatched + timedelta(hours=24)
    assert services.orders_escalate_overdue(now=dispatched + timedelta(hours=11)) == {
        "reminded": 0,
        "escalated": 0,
        "closed": 0,
    }
    assert services.orders_escalate_overdue(now=dispatched + timedelta(hours=13))["reminded"] == 1
    assert services.orders_escalate_overdue(now=dispatched + timedelta(hours=14))["reminded"] == 0  # once
    counts = services.orders_escalate_overdue(now=dispatched + timedelta(hours=25))
    assert counts["escalated"] == 1
    order.refresh_from_db()
    assert order.escalation_level == 1 and order.status == S.DISPATCHED
    assert "长安街道分中心" in OrderEvent.objects.filter(order=order, action="escalated").last().note
    assert order in selectors.escalations(actor=sub_staff)
    # not again until the new deadline, then one level higher
    assert services.orders_escalate_overdue(now=dispatched + timedelta(hours=30))["escalated"] == 0
    services.orders_escalate_overdue(now=dispatched + timedelta(hours=50))
    order.refresh_from_db()
    assert order.escalation_level == 2
    assert "县新时代文明实践中心" in OrderEvent.objects.filter(order=order, action="escalated").last().note


def test_escalation_notifies_the_level_above(tree, owner, crew, django_capture_on_commit_callbacks):
    from leifeng.notifications.models import Notification

    leader, team = crew
    sub_staff = testing.make_user("substaff", role=Role.ORG_STAFF, org=tree.sub_a)
    order = order_in(S.DISPATCHED, tree=tree, staff=owner, leader=leader, team=team)
    with django_capture_on_commit_callbacks(execute=True):
        services.orders_escalate_overdue(now=order.accept_by + timedelta(minutes=1))
    assert Notification.objects.filter(recipient=sub_staff).exists()


def test_service_past_the_promised_time_escalates(tree, owner, crew):
    leader, team = crew
    order = order_in(S.TAKEN, tree=tree, staff=owner, leader=leader, team=team)
    assert services.orders_escalate_overdue(now=order.promised_by - timedelta(minutes=1))["escalated"] == 0
    assert services.orders_escalate_overdue(now=order.promised_by + timedelta(minutes=1))["escalated"] == 1


def test_unrated_orders_close_after_the_regional_number_of_days(tree, owner, crew):
    leader, team = crew
    tree.sub_a.rules = {"order_autoclose_days": 3}
    tree.sub_a.save()
    order = order_in(S.COMPLETED, tree=tree, staff=owner, leader=leader, team=team)
    assert services.orders_escalate_overdue(now=order.completed_at + timedelta(days=2))["closed"] == 0
    assert services.orders_escalate_overdue(now=order.completed_at + timedelta(days=3, minutes=1))["closed"] == 1
    order.refresh_from_db()
    assert order.status == S.CLOSED and order.rating is None
    assert OrderEvent.objects.filter(order=order).last().action == "auto_closed"


# ---------------------------------------------------------------- scope of reads


def test_a_station_sees_its_own_and_its_subtrees_orders_only(tree, owner, outsider, center_admin, point):
    mine = submit(tree.st_a1)
    below = submit(point, resident_phone="13600000000")
    elsewhere = submit(tree.st_b1, resident_phone="13500000000")
    assert set(selectors.order_list(actor=owner)) == {mine, below}
    assert set(selectors.order_list(actor=outsider)) == {elsewhere}
    assert set(selectors.order_list(actor=center_admin)) == {mine, below, elsewhere}
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.order_get(actor=outsider, order_id=mine.pk)
    with pytest.raises(Http404):
        selectors.order_by_token("not-the-token")
    assert selectors.order_by_token(mine.token) == mine


def test_figures_count_volume_times_and_satisfaction(tree, owner, crew, center_admin):
    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    order_in(S.FOLLOW_UP, tree=tree, staff=owner, leader=leader, team=team, resident_phone="13300000000")
    submit(tree.st_b1, resident_phone="13500000000")
    figs = selectors.figures(actor=center_admin)
    assert figs["total"].volume == 3
    assert figs["total"].satisfaction == 3.0 and figs["total"].low_ratings == 1
    assert figs["total"].median_accept_h == 4.0  # placed 9:00, accepted by the leader 13:00
    assert figs["total"].median_complete_h == 7.0
    by_node = {row.label: row.volume for row in figs["nodes"]}
    assert by_node == {"长安街道分中心": 2, "城关镇分中心": 1}
    assert [(t.label, t.volume) for t in figs["teams"]] == [(team.name, 2)]


# ---------------------------------------------------------------- the grab race, on PostgreSQL


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_ten_leaders_grab_the_same_order_at_once_and_exactly_one_gets_it():
    if connection.vendor != "postgresql":
        pytest.skip("row locks only mean something on PostgreSQL")
    tree = testing.build_tree()
    owner = testing.make_user("owner", role=Role.ORG_ADMIN, org=tree.st_a1)
    crews = [leader_with_team(tree, f"leader{i}") for i in range(10)]
    order = order_in(S.OPEN, tree=tree, staff=owner, leader=crews[0][0], team=crews[0][1])
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def grab(i: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection as thread_connection

        try:
            actor = get_user_model().objects.get(pk=crews[i][0].pk)
            barrier.wait(timeout=30)
            try:
                services.order_grab(actor=actor, order_id=order.pk, team_id=crews[i][1].pk)
                result = "ok"
            except Conflict as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_taken"] * 9 + ["ok"]
    order.refresh_from_db()
    assert order.status == S.TAKEN
    assert order.assignments.filter(status=AssignmentStatus.ACCEPTED).count() == 1
    assert OrderEvent.objects.filter(order=order, action="grabbed").count() == 1


def test_review_cannot_be_skipped_or_repeated(tree, owner, point, crew):
    leader, team = crew
    fresh = submit(tree.st_a1)
    with pytest.raises(Conflict) as exc:  # handing down needs a reviewed order
        services.order_push_down(actor=owner, order_id=fresh.pk, org_id=point.pk)
    assert exc.value.code == CoreCode.INVALID_TRANSITION
    accepted = order_in(S.ACCEPTED, tree=tree, staff=owner, leader=leader, team=team, resident_phone="13700000002")
    with pytest.raises(Conflict) as exc:
        services.order_accept(actor=owner, order_id=accepted.pk)
    assert exc.value.code == CoreCode.INVALID_TRANSITION
