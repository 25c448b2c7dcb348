"""Orders in any state, built through the services (so events and deadlines are what users would see)."""

from datetime import datetime, timedelta

from django.utils import timezone

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.orders import services
from leifeng.orders.models import MenuItem, Order, OrderStatus
from leifeng.people.models import Volunteer
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamMembership

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.get_current_timezone())
S = OrderStatus


def leader_with_team(tree, username: str = "leader", org=None, category=TeamCategory.ELDERLY) -> tuple:
    """A volunteer account leading an active team (with one more member) at `org` (st_a1 by default)."""
    org = org or tree.st_a1
    user = testing.make_volunteer_user(username, org=org, display_name="队长")
    testing.grant(user, Role.TEAM_LEADER, org)
    leader = Volunteer.objects.get(user=user)
    team = testing.TeamFactory(org=org, category=category, leader=leader)
    member = testing.VolunteerFactory(org=org, name="队员甲")
    TeamMembership.objects.create(team=team, volunteer=leader, status=MembershipStatus.ACTIVE)
    TeamMembership.objects.create(team=team, volunteer=member, status=MembershipStatus.ACTIVE)
    return user, team


def menu_item(org, title: str = "助老陪护", category=TeamCategory.ELDERLY, teams=()) -> MenuItem:
    item = MenuItem.objects.create(org=org, title=title, category=category, expected_minutes=60)
    item.teams.set(teams)
    return item


def order_input(org, **kw) -> services.OrderInput:
    data = {
        "org_id": org.pk,
        "resident_name": "王大妈",
        "resident_phone": "13912345678",
        "address": "东关社区3号楼2单元",
        "description": "家里水管漏水，需要上门看看",
    }
    data.update(kw)
    return services.OrderInput(**data)


def submit(org, now: datetime = T0, **kw) -> Order:
    order, _created = services.order_submit(data=order_input(org, **kw), now=now)
    return order


def order_in(status: str, *, tree, staff, leader, team: Team, now: datetime = T0, **kw) -> Order:
    """An order moved to `status` by the usual path (owner reviews and dispatches, the leader serves)."""
    order = submit(tree.st_a1, now=now, **kw)
    step = now
    if status == S.SUBMITTED:
        return order
    if status == S.REJECTED:
        return services.order_reject(actor=staff, order_id=order.pk, reason="不在服务范围", now=step)
    if status == S.CANCELLED:
        return services.order_cancel(token=order.token, now=step)
    if status == S.MERGED:
        other = submit(tree.st_a1, now=now, resident_phone="13800001111")
        return services.order_merge(actor=staff, order_id=order.pk, into_id=other.pk, now=step)
    step += timedelta(hours=1)
    services.order_accept(actor=staff, order_id=order.pk, now=step)
    if status == S.ACCEPTED:
        return Order.objects.get(pk=order.pk)
    if status == S.OPEN:
        return services.order_open_grab(actor=staff, order_id=order.pk, now=step)
    step += timedelta(hours=1)
    services.order_dispatch(actor=staff, order_id=order.pk, team_id=team.pk, now=step)
    if status == S.DISPATCHED:
        return Order.objects.get(pk=order.pk)
    step += timedelta(hours=2)
    services.order_take(actor=leader, order_id=order.pk, now=step)
    if status == S.TAKEN:
        return Order.objects.get(pk=order.pk)
    step += timedelta(hours=3)
    services.order_complete(
        actor=leader, order_id=order.pk, data=services.CompletionInput(notes="已修好水管", minutes=90), now=step
    )
    if status == S.COMPLETED:
        return Order.objects.get(pk=order.pk)
    step += timedelta(hours=1)
    fresh = Order.objects.get(pk=order.pk)
    if status == S.FOLLOW_UP:
        return services.order_rate(token=fresh.token, rating=1, comment="没修好", now=step)
    if status == S.CLOSED:
        return services.order_rate(token=fresh.token, rating=5, comment="很好", now=step)
    raise ValueError(status)
