"""Reminders the day before and at the start, once each, to confirmed sign-ups only."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from leifeng import testing
from leifeng.activities.models import Activity, ActivityStatus, Post, Signup, SignupStatus
from leifeng.activities.tasks import send_due_reminders
from leifeng.notifications.models import Delivery, DeliveryStatus, Notification

START = timezone.make_aware(datetime(2026, 12, 1, 7, 30))


@pytest.fixture
def shift(tree):
    a = Activity.objects.create(
        org=tree.st_a1,
        title="文明交通劝导",
        category="other",
        address="东关路口",
        status=ActivityStatus.PUBLISHED,
        published_at=START - timedelta(days=10),
        contact_name="李老师",
        contact_phone="13812345678",
        supplies="小红旗\n反光背心",
        safety_notes="不要进入机动车道",
    )
    return Post.objects.create(activity=a, title="一号岗", starts_at=START, ends_at=START + timedelta(hours=2), quota=5)


def signup(post, username, status=SignupStatus.CONFIRMED, **user_kw):
    user = testing.make_volunteer_user(username, org=post.activity.org)
    if user_kw:
        type(user).objects.filter(pk=user.pk).update(**user_kw)
    return Signup.objects.create(
        post=post, volunteer=user.volunteer, status=status, starts_at=post.starts_at, ends_at=post.ends_at
    )


def test_day_before_and_start_each_once(shift, django_capture_on_commit_callbacks):
    s = signup(shift, "vol", email="vol@example.org")
    signup(shift, "gone", status=SignupStatus.WITHDRAWN)
    signup(shift, "waiting", status=SignupStatus.WAITLISTED)
    # Too early: nothing.
    assert send_due_reminders(now=START - timedelta(hours=30)).sent == {"day_before": 0, "start": 0}
    # The evening before, run twice: one reminder.
    with django_capture_on_commit_callbacks(execute=True):
        first = send_due_reminders(now=START - timedelta(hours=14), channels=["email"])
        again = send_due_reminders(now=START - timedelta(hours=13), channels=["email"])
    assert first.sent == {"day_before": 1, "start": 0}
    assert again.sent == {"day_before": 0, "start": 0} and again.already == 1
    n = Notification.objects.get(dedupe_key=f"signup:{s.pk}:day_before")
    assert n.recipient == s.volunteer.user and n.title == "明天：文明交通劝导"
    for text in ("一号岗", "07:30–09:30", "东关路口", "李老师 13812345678", "小红旗、反光背心", "不要进入机动车道"):
        assert text in n.body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["vol@example.org"]
    # At the start (the driver runs a bit before and after): one start reminder.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(now=START - timedelta(minutes=30), channels=["email"]).sent["start"] == 1
        assert send_due_reminders(now=START + timedelta(minutes=5), channels=["email"]).sent["start"] == 0
    assert Notification.objects.get(dedupe_key=f"signup:{s.pk}:start").title == "即将开始：文明交通劝导"
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 2


def test_late_signup_gets_only_the_start_reminder(shift):
    s = signup(shift, "late")
    assert send_due_reminders(now=START - timedelta(hours=1)).sent == {"day_before": 0, "start": 0}
    assert send_due_reminders(now=START - timedelta(minutes=10)).sent == {"day_before": 0, "start": 1}
    assert not Notification.objects.filter(dedupe_key=f"signup:{s.pk}:day_before").exists()


def test_cancelled_activity_and_volunteers_without_account(shift):
    s = signup(shift, "vol")
    Signup.objects.filter(pk=s.pk).update()  # confirmed, with an account
    testing.VolunteerFactory(org=shift.activity.org, user=None)  # imported, no login
    nouser = testing.VolunteerFactory(org=shift.activity.org, user=None)
    Signup.objects.create(
        post=shift, volunteer=nouser, status=SignupStatus.CONFIRMED, starts_at=START, ends_at=shift.ends_at
    )
    run = send_due_reminders(now=START - timedelta(hours=12))
    assert run.sent["day_before"] == 1 and run.no_account == 1
    Activity.objects.filter(pk=shift.activity_id).update(status=ActivityStatus.CANCELLED)
    assert send_due_reminders(now=START - timedelta(minutes=5)).sent["start"] == 0


def test_command_with_a_given_clock_is_idempotent(shift):
    signup(shift, "vol")
    out = StringIO()
    call_command("send_reminders", now=(START - timedelta(hours=10)).isoformat(), stdout=out)
    call_command("send_reminders", now=(START - timedelta(hours=9)).isoformat(), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reminders: day before 1, start 0")
    assert lines[1].startswith("reminders: day before 0, start 0, already sent 1")
    assert Notification.objects.count() == 1


def test_query_count_per_run_is_bounded(shift, django_assert_max_num_queries):
    for i in range(3):
        signup(shift, f"v{i}")
    send_due_reminders(now=START - timedelta(hours=12))
    # Nothing left to send: 2 windows × (sign-ups + already-sent keys) = 4 queries, whatever the number.
    with django_assert_max_num_queries(4):
        assert send_due_reminders(now=START - timedelta(hours=11)).already == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_drivers_racing_send_each_reminder_once():
    """Eight drivers (cron overlapping a worker) run at the same instant: every reminder still goes once."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers only mean something on PostgreSQL")
    tree = testing.build_tree()
    a = Activity.objects.create(
        org=tree.st_a1, title="并发提醒", category="other", address="东关", status=ActivityStatus.PUBLISHED
    )
    post = Post.objects.create(activity=a, title="岗", starts_at=START, ends_at=START + timedelta(hours=2), quota=20)
    for i in range(10):
        signup(post, f"r{i}", email=f"r{i}@example.org")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def drive() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            send_due_reminders(now=START - timedelta(hours=12), channels=["email"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=drive) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Notification.objects.count() == 10
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 10
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"r{i}@example.org" for i in range(10))
