"""Auto-close: presences left open after their post ended are closed at its end and flagged (`auto_closed`)
for the organizer; confirmed people who never came are marked no-shows. Run by a task and a command
(`close_attendance`), one post per transaction.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from leifeng.activities.models import Post, Signup, SignupStatus
from leifeng.attendance.codes import AuditAction
from leifeng.attendance.models import Attendance, AttendanceStatus, Method, PostClosure
from leifeng.attendance.services.common import _close
from leifeng.core import audit


def close_attendance(*, now: datetime | None = None, actor=None) -> dict[str, int]:
    """Close presences left open after their post ended (flagged) and mark no-shows; one post per transaction."""
    now = now or timezone.now()
    done = {"posts": 0, "auto_closed": 0, "no_shows": 0}
    stale_open = Attendance.objects.filter(status=AttendanceStatus.OPEN, post__ends_at__lte=now).values("post_id")
    unprocessed = Post.objects.filter(ends_at__lte=now).exclude(pk__in=PostClosure.objects.values("post_id"))
    post_ids = set(unprocessed.values_list("pk", flat=True)) | {r["post_id"] for r in stale_open}
    for post_id in sorted(post_ids):
        with transaction.atomic():
            post = Post.objects.select_related("activity__org").select_for_update(of=("self",)).get(pk=post_id)
            closed = 0
            for att in Attendance.objects.select_for_update().filter(post=post, status=AttendanceStatus.OPEN):
                att.post = post
                _close(att, at=post.ends_at, method=Method.AUTO, actor=actor, auto=att.method_in != Method.ROLL_CALL)
                closed += 1
            no_shows = 0
            closure = PostClosure.objects.filter(post=post).first()
            if closure is None:
                seen = Attendance.objects.filter(post=post).values("volunteer_id")
                missing = list(
                    Signup.objects.filter(post=post, status=SignupStatus.CONFIRMED)
                    .exclude(volunteer_id__in=seen)
                    .values_list("volunteer_id", flat=True)
                )
                Attendance.objects.bulk_create(
                    [
                        Attendance(
                            activity_id=post.activity_id, post=post, volunteer_id=v, status=AttendanceStatus.ABSENT
                        )
                        for v in missing
                    ]
                )
                no_shows = len(missing)
                closure = PostClosure.objects.create(post=post, closed_at=now, auto_closed=closed, no_shows=no_shows)
            elif closed:
                closure.auto_closed += closed
                closure.save(update_fields=["auto_closed"])
            if closed or no_shows:
                audit.record(
                    actor=actor,
                    action=AuditAction.AUTO_CLOSE,
                    obj=post,
                    org=post.activity.org,
                    object_repr=str(post),
                    changes={"auto_closed": closed, "no_shows": no_shows},
                )
            done["posts"] += 1
            done["auto_closed"] += closed
            done["no_shows"] += no_shows
    return done
