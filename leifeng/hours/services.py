"""Writes to the service-record ledger (DESIGN §4 rules 8–11). Append-only: there is no update or delete.

* `record_presence(attendance=...)` turns a closed presence into a VERIFIED record: the overlap of the
  presence with the post's window;
* `service_record_add(...)` is the one way any app adds an entry (orders call it with source=ORDER);
* every entry passes through `_allot`, which holds a row lock on the volunteer and
    - never counts the same person's time twice: an entry with a time interval only credits the part
      not already covered by another live (not reversed) entry of that person;
    - caps each local calendar day (settings.TIME_ZONE) at `rules.rule(org, "daily_hours_cap")` hours
      across ALL the person's entries; an interval crossing midnight is split there, each part meeting
      its own day's cap. The entry stays ONE ledger row holding the capped total (`service_date` = the
      day it started); its per-day split is kept in `day_minutes` so later entries see each day's use;
* back-fill claims (补录) are capped at the post's window and approved by someone who is neither the
  volunteer nor the person who entered the claim (four eyes);
* a correction is a reversing entry (negative minutes, `reverses` set) plus a new entry, with actor
  and reason; a volunteer's correction request must be answered by the organizer.
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, rules, scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.scope import Perm
from leifeng.hours.models import (
    CLAIM_TRANSITIONS,
    CORRECTION_TRANSITIONS,
    ClaimStatus,
    CorrectionRequest,
    CorrectionStatus,
    HoursClaim,
    RecordKind,
    RecordSource,
    ServiceRecord,
)
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
    audit.record(actor=actor, action="service_record.add", obj=record, changes=audit.snapshot(record, RECORD_FIELDS))
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
        raise ServiceError(_("Unknown kind of record."), code="invalid", field="kind")
    if source not in RecordSource.values:
        raise ServiceError(_("Unknown source of record."), code="invalid", field="source")
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


# ---------------------------------------------------------------- corrections


def _record_for_change(actor, record_id) -> ServiceRecord:
    """The record locked, if the actor may see it; organizer rights (CHANGE at its org) are checked by callers."""
    try:
        record = (
            ServiceRecord.objects.select_for_update(of=("self",))
            .select_related("org", "volunteer", "post")
            .get(pk=record_id)
        )
    except (ServiceRecord.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    own = record.volunteer.user_id is not None and record.volunteer.user_id == getattr(actor, "pk", None)
    if not own and not scope.allows(actor, Perm.VIEW, record.org):
        raise NotFound()
    return record


def _require_organizer(actor, record: ServiceRecord) -> None:
    if not scope.allows(actor, Perm.CHANGE, record.org):
        raise PermissionDenied(_("Only the organizing node may correct its records."))
    if record.volunteer.user_id is not None and record.volunteer.user_id == actor.pk:
        raise PermissionDenied(_("Nobody may correct their own hours."))


def _correct(*, actor, record: ServiceRecord, minutes: int, reason: str) -> tuple[ServiceRecord, ServiceRecord | None]:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the record is corrected.")]})
    if record.minutes <= 0 or ServiceRecord.objects.filter(reverses=record).exists():
        raise Conflict(_("This record has already been corrected or is itself a reversal."), code="already_corrected")
    if minutes is None or minutes < 0:
        raise ValidationError({"minutes": [_("Minutes cannot be negative.")]})
    if record.post_id is not None:
        length = int((record.post.ends_at - record.post.starts_at).total_seconds() // 60)
        if minutes > length:
            raise ValidationError({"minutes": [_("At most %(n)d minutes: the length of the post.") % {"n": length}]})
    reversal = _write(
        actor=actor,
        volunteer_id=record.volunteer_id,
        org=record.org,
        kind=record.kind,
        source=RecordSource.CORRECTION,
        source_id=str(record.pk),
        minutes=-record.minutes,
        service_date=record.service_date,
        content=record.content,
        category=record.category,
        activity=record.activity,
        post=record.post,
        team=record.team,
        reverses=record,
        reason=reason,
        day_minutes={k: -v for k, v in record.day_minutes.items()} if record.day_minutes else None,
    )
    new = None
    if minutes > 0:
        # an entry split across days is re-entered over the same days; any other on its service date
        spread = bool(record.day_minutes) and record.started_at is not None and record.ended_at is not None
        credited, split = _allot(
            volunteer_id=record.volunteer_id,
            org=record.org,
            service_date=record.service_date,
            minutes=minutes,
            started_at=record.started_at if spread else None,
            ended_at=record.ended_at if spread else None,
            overlap=False,
        )
        if credited < minutes:
            raise ValidationError(
                {"minutes": [_("That passes the daily cap: at most %(n)d minutes on this day.") % {"n": credited}]}
            )
        new = _write(
            actor=actor,
            volunteer_id=record.volunteer_id,
            org=record.org,
            kind=record.kind,
            source=RecordSource.CORRECTION,
            source_id=str(record.pk),
            minutes=minutes,
            service_date=record.service_date,
            content=record.content,
            category=record.category,
            activity=record.activity,
            post=record.post,
            team=record.team,
            started_at=record.started_at,
            ended_at=record.ended_at,
            reason=reason,
            approved_by=actor,
            day_minutes=_split_for_storage(record.service_date, split),
        )
    return reversal, new


@transaction.atomic
def record_correct(*, actor, record_id: int, minutes: int, reason: str):
    """Organizer's correction: reversing entry + a new entry of `minutes` (0 = only reverse)."""
    record = _record_for_change(actor, record_id)
    _require_organizer(actor, record)
    return _correct(actor=actor, record=record, minutes=minutes, reason=reason)


@transaction.atomic
def correction_request(*, actor, record_id: int, minutes: int | None, reason: str) -> CorrectionRequest:
    """A volunteer asks the organizer to correct one of their own records."""
    record = _record_for_change(actor, record_id)
    if record.volunteer.user_id != actor.pk:
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say what is wrong with the record.")]})
    if record.minutes <= 0 or ServiceRecord.objects.filter(reverses=record).exists():
        raise Conflict(_("This record has already been corrected."), code="already_corrected")
    if CorrectionRequest.objects.filter(record=record, status=CorrectionStatus.OPEN).exists():
        raise Conflict(_("A request for this record is already open."), code="already_open")
    req = CorrectionRequest.objects.create(record=record, requested_by=actor, requested_minutes=minutes, reason=reason)
    audit.record(
        actor=actor,
        action="correction.request",
        obj=req,
        org=record.org,
        changes={"record": record.pk, "minutes": minutes, "reason": reason},
    )
    return req


@transaction.atomic
def correction_answer(
    *, actor, request_id: int, accept: bool, answer: str = "", minutes: int | None = None, now=None
) -> CorrectionRequest:
    """The organizer answers: accept (reversal + new entry) or reject with a reason."""
    try:
        req = CorrectionRequest.objects.select_for_update(of=("self",)).get(pk=request_id)
    except (CorrectionRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    record = _record_for_change(actor, req.record_id)
    _require_organizer(actor, record)
    target = CorrectionStatus.ACCEPTED if accept else CorrectionStatus.REJECTED
    if target not in CORRECTION_TRANSITIONS[req.status]:
        raise Conflict(_("This request has already been answered."), code="already_answered")
    answer = (answer or "").strip()
    if not accept and not answer:
        raise ValidationError({"answer": [_("Say why the request is rejected.")]})
    if accept:
        new_minutes = minutes if minutes is not None else req.requested_minutes
        if new_minutes is None:
            raise ValidationError({"minutes": [_("Give the corrected minutes.")]})
        _correct(actor=actor, record=record, minutes=new_minutes, reason=answer or req.reason)
    req.status = target
    req.answered_by = actor
    req.answered_at = now or timezone.now()
    req.answer = answer
    req.save(update_fields=["status", "answered_by", "answered_at", "answer"])
    audit.record(
        actor=actor, action=f"correction.{target}", obj=req, org=record.org, changes={"status": ["open", target]}
    )
    return req


# ---------------------------------------------------------------- back-fill claims


def _post_for_claim(actor, post_id):
    from leifeng.activities.models import Post

    post = Post.objects.select_related("activity__org").filter(pk=post_id).first()
    if post is None:
        raise NotFound()
    return post


@transaction.atomic
def claim_create(
    *, actor, post_id: int, volunteer_id: int | None = None, started_at: datetime, ended_at: datetime, note: str = ""
) -> HoursClaim:
    """Back-fill (补录) hours for a post: the volunteer for themselves, or staff of the organizer for anyone.

    The minutes are the claimed interval clipped to the post's window, so never more than its length.
    """
    post = _post_for_claim(actor, post_id)
    org = post.activity.org
    own = Volunteer.objects.filter(user=actor).first() if actor.is_authenticated else None
    if volunteer_id is None or (own is not None and own.pk == volunteer_id):
        if own is None:
            raise ValidationError({"volunteer": [_("Choose the volunteer.")]})
        volunteer = own
        from leifeng.activities.models import Signup

        if not scope.allows(actor, Perm.VIEW, org) and not Signup.objects.filter(post=post, volunteer=own).exists():
            raise NotFound()
    else:
        if not scope.allows(actor, Perm.CHANGE, org):
            raise NotFound()
        volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
        if volunteer is None:
            raise ValidationError({"volunteer": [_("Unknown volunteer.")]})
    if ended_at <= started_at:
        raise ValidationError({"ended_at": [_("The end must come after the start.")]})
    start, end = max(started_at, post.starts_at), min(ended_at, post.ends_at)
    minutes = int((end - start).total_seconds() // 60) if end > start else 0
    if minutes <= 0:
        raise ValidationError({"started_at": [_("The time claimed lies outside the post's hours.")]})
    if HoursClaim.objects.filter(post=post, volunteer=volunteer, status=ClaimStatus.PENDING).exists():
        raise Conflict(_("A claim for this post is already waiting for a decision."), code="already_open")
    claim = HoursClaim.objects.create(
        volunteer=volunteer,
        post=post,
        started_at=start,
        ended_at=end,
        minutes=minutes,
        note=(note or "").strip()[:200],
        entered_by=actor,
    )
    audit.record(
        actor=actor,
        action="hours_claim.create",
        obj=claim,
        org=org,
        changes={"volunteer": volunteer.pk, "post": post.pk, "minutes": minutes},
    )
    return claim


@transaction.atomic
def claim_decide(*, actor, claim_id: int, approve: bool, note: str = "", now=None) -> HoursClaim:
    """Approve (→ BACKFILLED record) or reject a claim. The approver is neither the volunteer nor who entered it."""
    try:
        claim = (
            HoursClaim.objects.select_for_update(of=("self",))
            .select_related("post__activity__org", "volunteer")
            .get(pk=claim_id)
        )
    except (HoursClaim.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    org = claim.post.activity.org
    if claim.volunteer.user_id == actor.pk:
        raise PermissionDenied(_("Nobody may approve their own hours."), code="own_hours")
    if not scope.allows(actor, Perm.VIEW, org):
        raise NotFound()
    if not scope.allows(actor, Perm.CHANGE, org):
        raise PermissionDenied(_("Only the organizing node may decide on back-filled hours."))
    if claim.entered_by_id == actor.pk:
        raise PermissionDenied(_("Someone other than who entered the claim must decide on it."), code="four_eyes")
    target = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    if target not in CLAIM_TRANSITIONS[claim.status]:
        raise Conflict(_("This claim has already been decided."), code="already_decided")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the claim is rejected.")]})
    if approve:
        post = claim.post
        credited, split = _allot(
            volunteer_id=claim.volunteer_id,
            org=org,
            service_date=local_date(claim.started_at),
            minutes=claim.minutes,
            started_at=claim.started_at,
            ended_at=claim.ended_at,
        )
        if credited <= 0:
            raise Conflict(
                _("These hours are already counted for this person (overlap or daily cap)."), code="nothing_to_credit"
            )
        claim.record = _write(
            actor=actor,
            volunteer_id=claim.volunteer_id,
            org=org,
            kind=RecordKind.BACKFILLED,
            source=RecordSource.BACKFILL,
            source_id=str(claim.pk),
            minutes=credited,
            service_date=local_date(claim.started_at),
            content=f"{post.activity.title} · {post.title}",
            category=post.activity.category,
            activity=post.activity,
            post=post,
            started_at=claim.started_at,
            ended_at=claim.ended_at,
            approved_by=actor,
            reason=claim.note,
            day_minutes=_split_for_storage(local_date(claim.started_at), split),
        )
    claim.status = target
    claim.decided_by = actor
    claim.decided_at = now or timezone.now()
    claim.decision_note = note[:200]
    claim.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "record"])
    audit.record(
        actor=actor, action=f"hours_claim.{target}", obj=claim, org=org, changes={"status": ["pending", target]}
    )
    return claim


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)
