"""Reminders: the day before and at the start of each post, everyone with a confirmed sign-up is told where,
when, whom to call and what to bring, through `notifications.notify`.

`send_due_reminders(now=...)` is the periodic driver (`manage.py send_reminders`, by cron or `--loop`; or the
`remind_due` task). It looks at a window around `now`, so it may run at any interval up to the window, and it is
idempotent: the dedupe keys ``signup:<id>:day_before`` / ``signup:<id>:start`` make a second run send nothing.

Windows (for a post starting at S):
  * day before: from S − 24 h until S − 2 h (someone who signs up later gets only the start reminder);
  * start:      from S − 45 min until S + 30 min.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.tasks import task
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation

from leifeng.activities.models import ActivityStatus, Signup, SignupStatus
from leifeng.notifications import texts

DAY_BEFORE_FROM = timedelta(hours=24)
DAY_BEFORE_UNTIL = timedelta(hours=2)
START_FROM = timedelta(minutes=45)
START_UNTIL = timedelta(minutes=30)
LIVE = (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS)
DAY_BEFORE, START = "day_before", "start"


@dataclass
class ReminderRun:
    sent: dict[str, int] = field(default_factory=lambda: {DAY_BEFORE: 0, START: 0})
    already: int = 0
    no_account: int = 0


def dedupe_key(signup_id: int, which: str) -> str:
    return f"signup:{signup_id}:{which}"


def _activity_link(activity_id: int) -> str:
    for name in ("activities:activity_detail", "activities:detail"):
        try:
            return reverse(name, args=[activity_id])
        except NoReverseMatch:
            continue
    return reverse("activities:feed_links")


def _when(post) -> str:
    start, end = timezone.localtime(post.starts_at), timezone.localtime(post.ends_at)
    day = formats.date_format(start, "SHORT_DATE_FORMAT")
    if start.date() == end.date():
        return f"{day} {start:%H:%M}–{end:%H:%M}"
    return f"{day} {start:%H:%M} – {formats.date_format(end, 'SHORT_DATE_FORMAT')} {end:%H:%M}"


def message(signup: Signup, which: str) -> tuple[str, str]:
    """Title and body of a reminder, in the installation's language."""
    post, a = signup.post, signup.post.activity
    title = str(texts.REMINDER_TITLE[which]) % {"activity": a.title}
    lines = [
        str(texts.POST) % {"post": post.title},
        str(texts.TIME) % {"when": _when(post)},
        str(texts.PLACE) % {"address": a.address},
    ]
    if signup.group_id:
        lines.append(str(texts.GROUP) % {"group": signup.group})
    if a.contact_name or a.contact_phone:
        lines.append(str(texts.CONTACT) % {"contact": f"{a.contact_name} {a.contact_phone}".strip()})
    if a.supplies and which == DAY_BEFORE:
        items = "、".join(s.strip() for s in a.supplies.splitlines() if s.strip())
        lines.append(str(texts.BRING) % {"items": items})
    if a.safety_notes:
        lines.append(str(texts.SAFETY) % {"notes": a.safety_notes})
    return title, "\n".join(lines)


def due_signups(which: str, now: datetime):
    if which == DAY_BEFORE:
        window = Q(post__starts_at__gt=now + DAY_BEFORE_UNTIL, post__starts_at__lte=now + DAY_BEFORE_FROM)
    else:
        window = Q(post__starts_at__gt=now - START_UNTIL, post__starts_at__lte=now + START_FROM)
    return (
        Signup.objects.filter(window, status=SignupStatus.CONFIRMED, post__activity__status__in=LIVE)
        .select_related("post__activity", "group", "volunteer")
        .order_by("post__starts_at", "id")
    )


def send_due_reminders(*, now: datetime | None = None, channels: list[str] | None = None) -> ReminderRun:
    """Send every reminder due at `now` that has not gone yet. Safe to run as often as you like."""
    from leifeng.notifications.models import Notification
    from leifeng.notifications.services import notify

    now = now or timezone.now()
    run = ReminderRun()
    with translation.override(settings.LANGUAGE_CODE):
        for which in (DAY_BEFORE, START):
            signups = list(due_signups(which, now))
            keys = [dedupe_key(s.pk, which) for s in signups]
            done = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
            for s in signups:
                key = dedupe_key(s.pk, which)
                if key in done:
                    run.already += 1
                    continue
                if s.volunteer.user_id is None:
                    run.no_account += 1
                    continue
                title, body = message(s, which)
                created = notify(
                    recipients=[s.volunteer.user_id],
                    kind=f"reminder.{which}",
                    title=title,
                    body=body,
                    link=_activity_link(s.post.activity_id),
                    channels=channels,
                    dedupe_key=key,
                )
                if created:
                    run.sent[which] += 1
                else:
                    run.already += 1
    return run


@task()
def remind_due() -> dict:
    """The driver as a background task (for installations that schedule tasks rather than cron)."""
    from leifeng.notifications.services import retry_due

    run = send_due_reminders()
    return {"sent": run.sent, "already": run.already, "no_account": run.no_account, "retried": retry_due()}


@task()
def advance_activities() -> dict[str, int]:
    """Start and finish activities by the clock (`services.activities_advance`); schedule it every few minutes,
    or run `manage.py advance_activities` from cron instead."""
    from leifeng.activities.services import activities_advance

    return activities_advance()
