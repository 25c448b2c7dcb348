"""Activities start and finish by the clock (services.activities_advance, the command and the task).

The clock is the `now=` argument (or `--now`); the task reads the real clock, so its activity lies in the past.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from leifeng.activities import services
from leifeng.activities.models import Activity, ActivityStatus, Post
from leifeng.activities.tests.conftest import NOW, START, make_activity
from leifeng.core.models import AuditEvent


def _status(a: Activity) -> str:
    a.refresh_from_db()
    return a.status


def _moves(a: Activity) -> list[tuple[str, int | None, str]]:
    rows = AuditEvent.objects.filter(object_type="activities.activity", object_id=str(a.pk)).order_by("pk")
    return [(e.action, e.actor_id, e.note) for e in rows if e.action in ("activity.start", "activity.finish")]


@pytest.fixture
def two_days(tree):
    """Published; posts on START (2 h) and the next day (2 h)."""
    a = make_activity(tree.st_a1)
    Post.objects.create(
        activity=a,
        title="次日岗",
        starts_at=START + timedelta(days=1),
        ends_at=START + timedelta(days=1, hours=2),
        quota=3,
    )
    return a


def test_starts_with_the_first_post_and_finishes_after_the_last(two_days):
    a = two_days
    assert services.activities_advance(now=START - timedelta(minutes=1)) == {"started": 0, "finished": 0}
    assert _status(a) == ActivityStatus.PUBLISHED

    assert services.activities_advance(now=START) == {"started": 1, "finished": 0}
    assert _status(a) == ActivityStatus.IN_PROGRESS
    # between the two posts, and again at the same moment: nothing more happens
    assert services.activities_advance(now=START) == {"started": 0, "finished": 0}
    assert services.activities_advance(now=START + timedelta(hours=5)) == {"started": 0, "finished": 0}
    assert _status(a) == ActivityStatus.IN_PROGRESS

    last_end = START + timedelta(days=1, hours=2)
    assert services.activities_advance(now=last_end - timedelta(minutes=1)) == {"started": 0, "finished": 0}
    assert services.activities_advance(now=last_end) == {"started": 0, "finished": 1}
    assert _status(a) == ActivityStatus.FINISHED
    assert services.activities_advance(now=last_end + timedelta(days=3)) == {"started": 0, "finished": 0}

    moves = _moves(a)
    assert [(action, actor) for action, actor, _ in moves] == [("activity.start", None), ("activity.finish", None)]
    assert all(note.startswith("automatic:") for _, _, note in moves)
    assert AuditEvent.objects.filter(action="activity.start", object_id=str(a.pk)).get().org_id == a.org_id


def test_a_late_run_starts_and_finishes_in_one_go(tree):
    a = make_activity(tree.st_a1)
    done = services.activities_advance(now=START + timedelta(days=2))
    assert done == {"started": 1, "finished": 1}
    assert _status(a) == ActivityStatus.FINISHED
    assert [m[0] for m in _moves(a)] == ["activity.start", "activity.finish"]


def test_leaves_drafts_cancelled_finished_and_postless_activities_alone(tree):
    draft = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    cancelled = make_activity(tree.st_a1, status=ActivityStatus.CANCELLED)
    finished = make_activity(tree.st_a1, status=ActivityStatus.FINISHED)
    empty = make_activity(tree.st_a1, status=ActivityStatus.IN_PROGRESS)
    empty.posts.all().delete()
    assert services.activities_advance(now=START + timedelta(days=30)) == {"started": 0, "finished": 0}
    assert [_status(a) for a in (draft, cancelled, finished, empty)] == [
        ActivityStatus.DRAFT,
        ActivityStatus.CANCELLED,
        ActivityStatus.FINISHED,
        ActivityStatus.IN_PROGRESS,
    ]
    assert AuditEvent.objects.filter(action__in=("activity.start", "activity.finish")).count() == 0


def test_a_move_made_by_hand_is_kept(two_days, owner):
    """The organizer finished early by hand: the clock does not touch it again."""
    services.activities_advance(now=START)
    services.activity_finish(actor=owner, activity_id=two_days.pk)
    assert services.activities_advance(now=START + timedelta(days=2)) == {"started": 0, "finished": 0}
    assert [(m[0], m[1]) for m in _moves(two_days)] == [("activity.start", None), ("activity.finish", owner.pk)]


def test_the_organizer_sees_the_new_status(client_for, owner, two_days):
    services.activities_advance(now=START)
    page = client_for(owner).get(reverse("activities:activity_detail", args=[two_days.pk])).content.decode()
    assert 'badge in_progress">进行中' in page


def test_command_with_now(two_days):
    out = StringIO()
    call_command("advance_activities", now=START.isoformat(), stdout=out)
    assert out.getvalue().strip() == "started 1, finished 0"
    assert _status(two_days) == ActivityStatus.IN_PROGRESS
    out = StringIO()
    call_command("advance_activities", now=START.isoformat(), stdout=out)
    assert out.getvalue().strip() == "started 0, finished 0"
    with pytest.raises(CommandError):
        call_command("advance_activities", now="tomorrow")
    with pytest.raises(CommandError):
        call_command("advance_activities", now="2026-11-22T09:00")  # no time zone


def test_task_and_enqueue_use_the_real_clock(tree):
    """The immediate task backend in tests: the activity's only post ended an hour ago."""
    from leifeng.activities.tasks import advance_activities

    a = make_activity(tree.st_a1, start=NOW - timedelta(hours=3))
    result = advance_activities.enqueue()
    assert result.return_value == {"started": 1, "finished": 1}
    assert _status(a) == ActivityStatus.FINISHED
    out = StringIO()
    call_command("advance_activities", enqueue=True, stdout=out)
    assert out.getvalue().startswith("enqueued ")
