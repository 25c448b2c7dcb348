"""The notifications policy and the delivery table: one copy of each rule, and every status change through it."""

import pytest
from django.utils import translation

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.core.errors import Conflict
from leifeng.core.models import AuditEvent
from leifeng.notifications import selectors, services
from leifeng.notifications.models import DELIVERY_TRANSITIONS, Delivery, DeliveryStatus
from leifeng.notifications.policy import (
    delivery_policy,
    home_nodes,
    notification_policy,
    relay_policy,
    relay_recipients,
)

D = DeliveryStatus


# ---------------------------------------------------------------- the delivery table


def test_the_delivery_table_is_what_the_senders_do():
    assert DELIVERY_TRANSITIONS.sources(D.SENDING) == {D.PENDING}  # the claim's WHERE
    assert DELIVERY_TRANSITIONS.sources(D.PENDING) == {D.FAILED}  # retry
    assert DELIVERY_TRANSITIONS[D.SENDING] == {D.SENT, D.FAILED, D.SKIPPED}
    assert DELIVERY_TRANSITIONS[D.SENT] == DELIVERY_TRANSITIONS[D.SKIPPED] == frozenset()


def test_an_illegal_delivery_move_is_refused_and_changes_nothing(db):
    alice = testing.make_user("alice", email="alice@example.org")
    services.notify(recipients=[alice], kind="t", title="t", body="b", channels=["email"])
    d = Delivery.objects.get()
    assert services.send_delivery(d.pk) == D.SENT
    d.refresh_from_db()
    with pytest.raises(Conflict) as exc, translation.override("en"):
        DELIVERY_TRANSITIONS.move(d, D.PENDING)
    assert exc.value.code == "invalid_transition"
    assert exc.value.message == "A delivery that is “Sent” cannot become “Pending”."
    assert d.status == D.SENT
    # the sender refuses to send what nobody claimed (a sent delivery is not sending)
    with pytest.raises(Conflict):
        services._deliver(d)
    assert Delivery.objects.get(pk=d.pk).status == D.SENT


def test_retrying_a_delivery_that_did_not_fail_is_refused_by_the_table(tree, owner):
    relay = services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b", channels=["console"])
    d = Delivery.objects.get(notification__relay=relay)
    assert services.send_delivery(d.pk) == D.SENT
    with pytest.raises(Conflict) as exc:
        services.delivery_retry(actor=owner, delivery_id=d.pk)
    assert exc.value.code == "not_failed"
    assert Delivery.objects.get(pk=d.pk).status == D.SENT
    assert not AuditEvent.objects.filter(action="delivery.retry").exists()


def test_a_stale_send_fails_and_is_retried_through_the_table(db):
    from datetime import timedelta

    from django.utils import timezone

    alice = testing.make_user("alice", email="alice@example.org")
    services.notify(recipients=[alice], kind="t", title="t", body="b", channels=["email"])
    d = Delivery.objects.get()
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(pk=d.pk).update(status=D.SENDING, attempts=1, last_attempt_at=long_ago)
    assert services.retry_due(now=timezone.now()) == 1
    d.refresh_from_db()
    assert d.status == D.PENDING and d.error == "worker stopped while sending"


# ---------------------------------------------------------------- who sees what


def test_a_notification_is_its_recipients_alone(tree, owner, center_admin):
    (n,) = services.notify(recipients=[owner], kind="t", title="t", body="b", channels=[])
    assert list(notification_policy.own(owner)) == [n]
    assert list(notification_policy.own(center_admin)) == []  # above the owner in the tree: still not theirs


def test_relays_and_their_deliveries_are_seen_in_the_subtree(tree, owner, colleague, outsider, center_admin):
    relay = services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b", channels=["console"])
    for persona in (owner, colleague, center_admin):
        assert list(relay_policy.visible(persona)) == [relay]
        assert delivery_policy.visible(persona).count() == Delivery.objects.count() > 0
    assert not relay_policy.visible(outsider).exists() and not delivery_policy.visible(outsider).exists()
    assert relay_policy.allows(colleague, "change", relay) and not relay_policy.allows(outsider, "view", relay)
    assert relay_policy.is_staff(owner, "change") and not relay_policy.is_staff(testing.make_user("nobody"), "view")


def test_relay_recipients_are_role_holders_of_the_subtree(tree, owner, colleague, outsider, center_admin):
    leader = testing.make_user("leader", role=Role.TEAM_LEADER, org=tree.st_a1)
    gone = testing.make_user("gone", role=Role.ORG_STAFF, org=tree.st_a1, is_active=False)
    got = set(relay_recipients(org=tree.sub_a, roles=[Role.ORG_ADMIN, Role.TEAM_LEADER]))
    assert owner in got and leader in got
    assert center_admin not in got  # above the node: not in its subtree
    assert colleague not in got  # org_staff was not chosen
    assert outsider not in got and gone not in got


def test_home_nodes_are_the_volunteers_station_or_the_nodes_of_the_roles(tree, owner):
    volunteer = testing.make_volunteer_user("vol", org=tree.st_a2)
    assert home_nodes(volunteer) == [tree.st_a2]
    assert home_nodes(owner) == [tree.st_a1]
    assert selectors.home_nodes is home_nodes
