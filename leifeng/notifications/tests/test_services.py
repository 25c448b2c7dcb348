"""notify, dedupe, delivery statuses, retry, relay scope."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.core.errors import Conflict, NotFound, PermissionDenied
from leifeng.core.models import AuditEvent
from leifeng.notifications import services
from leifeng.notifications.models import Delivery, DeliveryStatus, Notification


@pytest.fixture
def alice(db):
    return testing.make_user("alice", email="alice@example.org", display_name="爱丽丝")


def test_notify_writes_inbox_and_sends_after_commit(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = services.notify(
            recipients=[alice], kind="test", title="明天集合", body="7:30 东关路口", channels=["console", "email"]
        )
    assert len(created) == 1
    n = Notification.objects.get(recipient=alice)
    assert n.title == "明天集合" and n.read_at is None
    statuses = dict(n.deliveries.values_list("channel", "status"))
    assert statuses == {"console": DeliveryStatus.SENT, "email": DeliveryStatus.SENT}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
    assert "7:30 东关路口" in mail.outbox[0].body


def test_nothing_is_sent_when_the_transaction_rolls_back(alice, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.notify(recipients=[alice], kind="test", title="t", body="b", channels=["email"])
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == [] and mail.outbox == []
    assert not Notification.objects.exists()


def test_email_without_address_is_skipped_with_reason(db, django_capture_on_commit_callbacks):
    bob = testing.make_user("bob")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[bob], kind="test", title="t", body="b", channels=["email"])
    d = Delivery.objects.get()
    assert d.status == DeliveryStatus.SKIPPED and d.error == "no e-mail address"


def test_dedupe_key_sends_once_per_person(alice, django_capture_on_commit_callbacks):
    bob = testing.make_user("bob", email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify(recipients=[alice], kind="r", title="t", body="b", channels=["email"], dedupe_key="k1")
        again = services.notify(
            recipients=[alice, bob], kind="r", title="t", body="b", channels=["email"], dedupe_key="k1"
        )
    assert len(first) == 1 and [n.recipient_id for n in again] == [bob.pk]
    assert Notification.objects.filter(dedupe_key="k1").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]


def test_failed_delivery_is_kept_and_retried(alice, settings, django_capture_on_commit_callbacks):
    settings.SMS_GATEWAY_URL = ""  # gateway not configured yet: the channel fails
    alice.phone = "13900000001"
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[alice], kind="t", title="t", body="b", channels=["sms"])
    d = Delivery.objects.get()
    assert d.status == DeliveryStatus.FAILED and d.attempts == 1 and "SMS_GATEWAY_URL" in d.error
    # Too early for the automatic retry.
    assert services.retry_due(now=timezone.now()) == 0
    # A later driver run retries it (and it fails again, counted).
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_due(now=timezone.now() + timedelta(minutes=6)) == 1
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.attempts == 2


def test_a_delivery_is_sent_once_even_if_two_workers_try(alice):
    services.notify(recipients=[alice], kind="t", title="t", body="b", channels=["email"])
    d = Delivery.objects.get()
    assert services.send_delivery(d.pk) == DeliveryStatus.SENT
    assert services.send_delivery(d.pk) is None
    assert len(mail.outbox) == 1


def test_mark_read_only_own(alice):
    bob = testing.make_user("bob")
    (n,) = services.notify(recipients=[alice], kind="t", title="t", body="b", channels=[])
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=bob, notification_id=n.pk)
    services.notification_mark_read(actor=alice, notification_id=n.pk)
    n.refresh_from_db()
    assert n.read_at is not None


class TestRelay:
    def test_reaches_role_holders_of_the_subtree_only(self, tree, owner, colleague, outsider, center_admin):
        testing.make_user("leader", role=Role.TEAM_LEADER, org=tree.st_a1)
        testing.make_user("west", role=Role.ORG_STAFF, org=tree.st_a2)
        relay = services.relay_send(actor=center_admin, org=tree.sub_a, title="防汛通知", body="今晚8点到岗，带手电。")
        got = set(Notification.objects.filter(relay=relay).values_list("recipient__username", flat=True))
        assert got == {"owner", "colleague", "leader", "west"}
        assert relay.recipient_count == 4
        assert AuditEvent.objects.filter(action="relay.send", object_id=str(relay.pk)).exists()

    def test_outsider_cannot_relay_into_another_subtree(self, tree, owner, outsider):
        with pytest.raises(NotFound):
            services.relay_send(actor=outsider, org=tree.st_a1, title="t", body="b")
        assert not Notification.objects.exists()

    def test_viewer_without_change_is_refused(self, tree, owner, assessor):
        with pytest.raises(PermissionDenied):
            services.relay_send(actor=assessor, org=tree.st_a1, title="t", body="b")

    def test_retry_of_a_failed_relay_delivery(self, tree, owner, colleague, settings):
        settings.SMS_GATEWAY_URL = ""
        relay = services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b", channels=["sms"])
        d = Delivery.objects.filter(notification__relay=relay).first()
        services.send_delivery(d.pk)
        d.refresh_from_db()
        assert d.status in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
        if d.status == DeliveryStatus.SKIPPED:
            return
        services.delivery_retry(actor=owner, delivery_id=d.pk)
        d.refresh_from_db()
        assert d.status == DeliveryStatus.PENDING
        with pytest.raises(Conflict):
            services.delivery_retry(actor=owner, delivery_id=d.pk)


@pytest.mark.parametrize("count", [3, 40])
def test_sending_a_batch_takes_the_same_queries_whatever_its_size(count, db, django_assert_num_queries):
    users = [testing.make_user(f"u{i}", email=f"u{i}@example.org") for i in range(count)]
    services.notify(recipients=users, kind="t", title="t", body="b", channels=["email"])
    ids = list(Delivery.objects.values_list("pk", flat=True))
    # savepoint, 1 claim (FOR UPDATE SKIP LOCKED), 2 mark them sending, release, 3 load them with their
    # recipients, 4 write the outcomes
    with django_assert_num_queries(6):
        assert services.send_deliveries(ids) == {DeliveryStatus.SENT: count}
    assert len(mail.outbox) == count


class BrokenBatchChannel:
    """A channel whose connection cannot be opened (an SMTP server that is down)."""

    name = "broken"

    def batch(self):
        raise ConnectionRefusedError("server down")

    def send(self, delivery):  # pragma: no cover - never reached
        raise AssertionError


def test_a_channel_that_cannot_connect_fails_its_deliveries_and_keeps_them(alice):
    path = f"{__name__}.BrokenBatchChannel"
    bob = testing.make_user("bob", email="bob@example.org")
    services.notify(recipients=[alice, bob], kind="t", title="t", body="b", channels=[path, "email"])
    counts = services.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))
    assert counts == {DeliveryStatus.FAILED: 2, DeliveryStatus.SENT: 2}
    failed = Delivery.objects.filter(status=DeliveryStatus.FAILED)
    assert {d.error for d in failed} == {"ConnectionRefusedError: server down"}
    assert len(mail.outbox) == 2  # the other channel went ahead


def test_an_unknown_channel_fails_with_its_reason(alice):
    services.notify(recipients=[alice], kind="t", title="t", body="b", channels=["nowhere.Channel"])
    d = Delivery.objects.get()
    assert services.send_delivery(d.pk) == DeliveryStatus.FAILED
    d.refresh_from_db()
    assert "nowhere" in d.error
