"""Corrections (DESIGN §4 rule 11): a reversing entry (negative minutes, `reverses` set) plus a new entry,
with actor and reason. The organizer corrects directly, or answers a volunteer's correction request (accept:
the correction is made; reject: with a reason). Who may is `hours.policy.record_policy`.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit
from leifeng.core.errors import Conflict, NotFound
from leifeng.hours.codes import AuditAction, ErrorCode
from leifeng.hours.models import (
    CORRECTION_TRANSITIONS,
    CorrectionRequest,
    CorrectionStatus,
    RecordSource,
    ServiceRecord,
)
from leifeng.hours.policy import record_policy
from leifeng.hours.services.ledger import _allot, _split_for_storage, _write


def _record_for_change(actor, record_id) -> ServiceRecord:
    """The record locked, if the actor may see it; organizer rights are checked by callers."""
    try:
        record = (
            ServiceRecord.objects.select_for_update(of=("self",))
            .select_related("org", "volunteer", "post")
            .get(pk=record_id)
        )
    except (ServiceRecord.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    record_policy.check_see(actor, record)
    return record


def _correct(*, actor, record: ServiceRecord, minutes: int, reason: str) -> tuple[ServiceRecord, ServiceRecord | None]:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the record is corrected.")]})
    if record.minutes <= 0 or ServiceRecord.objects.filter(reverses=record).exists():
        raise Conflict(
            _("This record has already been corrected or is itself a reversal."), code=ErrorCode.ALREADY_CORRECTED
        )
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
    record_policy.check_organizer(actor, record)
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
        raise Conflict(_("This record has already been corrected."), code=ErrorCode.ALREADY_CORRECTED)
    if CorrectionRequest.objects.filter(record=record, status=CorrectionStatus.OPEN).exists():
        raise Conflict(_("A request for this record is already open."), code=ErrorCode.ALREADY_OPEN)
    req = CorrectionRequest.objects.create(record=record, requested_by=actor, requested_minutes=minutes, reason=reason)
    audit.record(
        actor=actor,
        action=AuditAction.CORRECTION_REQUEST,
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
    record_policy.check_organizer(actor, record)
    target = CorrectionStatus.ACCEPTED if accept else CorrectionStatus.REJECTED
    CORRECTION_TRANSITIONS.check(req.status, target)
    answer = (answer or "").strip()
    if not accept and not answer:
        raise ValidationError({"answer": [_("Say why the request is rejected.")]})
    if accept:
        new_minutes = minutes if minutes is not None else req.requested_minutes
        if new_minutes is None:
            raise ValidationError({"minutes": [_("Give the corrected minutes.")]})
        _correct(actor=actor, record=record, minutes=new_minutes, reason=answer or req.reason)
    before = CORRECTION_TRANSITIONS.move(req, target)
    req.answered_by = actor
    req.answered_at = now or timezone.now()
    req.answer = answer
    req.save(update_fields=["status", "answered_by", "answered_at", "answer"])
    audit.record(
        actor=actor,
        action=AuditAction(f"correction.{target}"),
        obj=req,
        org=record.org,
        changes={"status": [before, target]},
    )
    return req
