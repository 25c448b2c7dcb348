"""The ledger's one way in (DESIGN §4 rules 8–11). Append-only: there is no update or delete.

* `record_presence(attendance=...)` turns a closed presence into a VERIFIED record: the overlap of the
  presence with the post's window;
* `service_record_add(...)` is the one way any app adds an entry (orders call it with source=ORDER);
* every entry passes through `_allot`, which holds a row lock on the volunteer and
    - never counts the same person's time twice: an entry with a time interval only credits the part
      not already covered by another live (not reversed) entry of that person;
    - caps each local calendar day (settings.TIME_ZONE) at `rules.rule(org, "daily_hours_cap")` hours
      across ALL the person's entries; an interval crossing midnight is split there, each part meeting
      its own day's cap. The entry stays ONE ledger row holding the capped total (`service_date` = the
      day it started); its per-day split is kept in `day_minutes` so later entries see each day's use.
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, rules
from leifeng.core.errors import ErrorCode, ServiceError
from leifeng.hours.codes import AuditAction
from leifeng.hours.models import RecordKind, RecordSource, ServiceRecord
from leifeng.people.models import Volunteer

RECORD_FIELDS = [
    "volunteer",
    "org",
    "kind",
    "source",
    "source_id",
    "minutes",
    "day_minutes",
    "service_date",
    "reverses",
    "reason",
]


# ---------------------------------------------------------------- interval arithmetic


def _uncovered_seconds(start: datetime, end: datetime, covered: list[tuple[datetime, datetime]]) -> int:
    """Seconds of [start, end) not inside any of the `covered` intervals."""
    if end <= start:
        return 0
    total = (end - start).total_seconds()
    merged: list[list[datetime]] = []
    for s, e in sorted((max(s, start), min(e, end)) for s, e in covered):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return int(total - sum((e - s).total_seconds() for s, e in merged))


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def cap_minutes(org) -> int:
    return int(rules.rule(org, "daily_hours_cap")) * 60


def day_segments(start: datetime, end: datetime) -> list[tuple[date, datetime, datetime]]:
    """[start, end) cut at local midnights (settings.TIME_ZONE): one (day, from, to) per local calendar day."""
    out: list[tuple[date, datetime, datetime]] = []
    cursor = start
    while cursor < end:
        day = local_date(cursor)
        midnight = day_bounds(day)[1]
        out.append((day, cursor, min(end, midnight)))
        cursor = midnight
    return out


def _shares(service_date: date, minutes: int, day_minutes: dict | None) -> dict[date, int]:
    """How an existing entry counts toward each day's cap."""
    if day_minutes:
        return {date.fromisoformat(k): int(v) for k, v in day_minutes.items()}
    return {service_date: minutes}


def _split_for_storage(service_date: date, split: dict[date, int]) -> dict[str, int] | None:
    """The JSON kept on the entry: None when everything counts on its service date (the usual case)."""
    kept = {d: m for d, m in split.items() if m}
    if not kept or set(kept) == {service_date}:
        return None
    return {d.isoformat(): m for d, m in sorted(kept.items())}


def _allot(
    *,
    volunteer_id: int,
    org,
    service_date: date,
    minutes: int | None,
    started_at: datetime | None,
    ended_at: datetime | None,
    overlap: bool = True,
) -> tuple[int, dict[date, int]]:
    """Minutes this new entry may add, per local day, after removing overlap and applying each day's cap.

    With an interval, it is cut at local midnight and each day's part meets that day's cap (a post
    22:00–02:00 counts 2 h toward each day). `minutes` (None = all that is free) is taken day by day in
    order. `overlap=False` (a correction re-entering a reversed entry) spreads the minutes over the
    interval's days without looking for overlap, the last day taking any excess.

    Must run inside the transaction that writes the entry: the volunteer row lock serializes every
    entry of one person, so two check-outs at once cannot both count the same hour.
    """
    Volunteer.objects.select_for_update().filter(pk=volunteer_id).values_list("pk", flat=True).first()
    from django.db.models import Q

    segments = day_segments(started_at, ended_at) if started_at and ended_at else []
    days = {service_date} | {d for d, _s, _e in segments}
    near = Q(service_date__in=days) | Q(day_minutes__has_any_keys=[d.isoformat() for d in days])
    if segments:
        near |= Q(started_at__lt=ended_at, ended_at__gt=started_at)
    rows = list(
        ServiceRecord.objects.filter(near, volunteer_id=volunteer_id).values_list(
            "id", "service_date", "minutes", "started_at", "ended_at", "reverses_id", "day_minutes"
        )
    )
    used: dict[date, int] = dict.fromkeys(days, 0)
    for r in rows:
        for d, m in _shares(r[1], r[2], r[6]).items():
            if d in used:
                used[d] += m
    cap = cap_minutes(org)
    if segments:
        wants: list[tuple[date, float]] = []
        if overlap:
            reversed_ids = {r[5] for r in rows if r[5]}
            covered = [(r[3], r[4]) for r in rows if r[2] > 0 and r[0] not in reversed_ids and r[3] and r[4]]
            seconds = 0
            for d, s, e in segments:  # cumulative rounding: the parts add up to the whole interval's minutes
                before = seconds // 60
                seconds += _uncovered_seconds(s, e, covered)
                wants.append((d, seconds // 60 - before))
        else:
            wants = [(d, (e - s).total_seconds() // 60) for d, s, e in segments]
            wants[-1] = (wants[-1][0], float("inf"))
    else:
        wants = [(service_date, float("inf"))]
    remaining = float("inf") if minutes is None else int(minutes)
    split: dict[date, int] = {}
    for d, want in wants:
        take = int(max(0, min(want, remaining, cap - used[d])))
        if take:
            split[d] = split.get(d, 0) + take
            remaining -= take
    return sum(split.values()), split


def _write(
    *,
    actor,
    volunteer_id: int,
    org,
    kind: str,
    source: str,
    source_id: str,
    minutes: int,
    service_date: date,
    content: str,
    category: str = "",
    activity=None,
    post=None,
    team=None,
    started_at=None,
    ended_at=None,
    approved_by=None,
    reverses=None,
    reason: str = "",
    day_minutes: dict | None = None,
) -> ServiceRecord:
    actor_ok = actor is not None and getattr(actor, "is_authenticated", False)
    record = ServiceRecord.objects.create(
        volunteer_id=volunteer_id,
        org=org,
        kind=kind,
        source=source,
        source_id=str(source_id or "")[:40],
        activity=activity,
        post=post,
        team=team,
        category=category or "",
        content=(content or "")[:200],
        service_date=service_date,
        started_at=started_at,
        ended_at=ended_at,
        minutes=minutes,
        day_minutes=day_minutes,
        reverses=reverses,
        reason=(reason or "")[:200],
        recorded_by=actor if actor_ok else None,
        approved_by=approved_by,
    )
    audit.record(
        actor=actor, action=AuditAction.SERVICE_RECORD_ADD, obj=record, changes=audit.snapshot(record, RECORD_FIELDS)
    )
    return record


@transaction.atomic
def service_record_add(
    *,
    actor,
    volunteer,
    org,
    kind: str,
    source: str,
    source_id,
    minutes: int,
    service_date: date,
    content: str,
    category: str = "",
    activity=None,
    post=None,
    team=None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    approved_by=None,
) -> ServiceRecord | None:
    """Add one ledger entry; None when overlap or the day's cap leave nothing to credit.

    `minutes` is what the caller asks for; with `started_at`/`ended_at` it is further limited to the
    part of that interval not already counted for this person. The caller has authorized `actor`.
    """
    if kind not in RecordKind.values:
        raise ServiceError(_("Unknown kind of record."), code=ErrorCode.INVALID, field="kind")
    if source not in RecordSource.values:
        raise ServiceError(_("Unknown source of record."), code=ErrorCode.INVALID, field="source")
    if minutes is None or int(minutes) <= 0:
        raise ValidationError({"minutes": [_("Minutes must be more than zero.")]})
    volunteer_id = volunteer.pk if hasattr(volunteer, "pk") else int(volunteer)
    credited, split = _allot(
        volunteer_id=volunteer_id,
        org=org,
        service_date=service_date,
        minutes=int(minutes),
        started_at=started_at,
        ended_at=ended_at,
    )
    if credited <= 0:
        return None
    return _write(
        actor=actor,
        volunteer_id=volunteer_id,
        org=org,
        kind=kind,
        source=source,
        source_id=source_id,
        minutes=credited,
        service_date=service_date,
        content=content,
        category=category,
        activity=activity,
        post=post,
        team=team,
        started_at=started_at,
        ended_at=ended_at,
        approved_by=approved_by,
        day_minutes=_split_for_storage(service_date, split),
    )


def _team_for(volunteer_id: int, activity):
    """The invited team the person belongs to, for team totals (None when the activity invites no team)."""
    from leifeng.teams.models import MembershipStatus, Team

    return (
        Team.objects.filter(
            invited_activities=activity,
            memberships__volunteer_id=volunteer_id,
            memberships__status=MembershipStatus.ACTIVE,
        )
        .order_by("id")
        .first()
    )


def record_presence(*, attendance, actor=None) -> ServiceRecord | None:
    """The VERIFIED record of a closed presence: its overlap with the post's window (rules 8, 9).

    Called inside the check-out / auto-close / roll-call / duration-code transaction; sets
    `attendance.record` (the caller saves the attendance). None when nothing new is countable.
    """
    post = attendance.post
    activity = post.activity
    start = max(attendance.checked_in_at, post.starts_at)
    end = min(attendance.checked_out_at, post.ends_at)
    if end <= start:
        return None
    source = RecordSource.DURATION_CODE if attendance.method_out == "duration_code" else RecordSource.ATTENDANCE
    with transaction.atomic():
        credited, split = _allot(
            volunteer_id=attendance.volunteer_id,
            org=activity.org,
            service_date=local_date(start),
            minutes=None,
            started_at=start,
            ended_at=end,
        )
        if credited <= 0:
            return None
        record = _write(
            actor=actor,
            volunteer_id=attendance.volunteer_id,
            org=activity.org,
            kind=RecordKind.VERIFIED,
            source=source,
            source_id=str(attendance.pk),
            minutes=credited,
            service_date=local_date(start),
            content=f"{activity.title} · {post.title}",
            category=activity.category,
            activity=activity,
            post=post,
            team=_team_for(attendance.volunteer_id, activity),
            started_at=start,
            ended_at=end,
            day_minutes=_split_for_storage(local_date(start), split),
        )
    attendance.record = record
    return record


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)
