"""Writes about volunteers (HackSoft services): keyword-only, atomic, validated, audited."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core import audit, crypto, scope
from leifeng.core.errors import NotFound, ServiceError
from leifeng.core.idnumbers import IdType, InvalidId, age_on, mask_id, normalize_phone, parse_id
from leifeng.core.numbers import allocate
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org, OrgLevel, Unit
from leifeng.people import pinyin
from leifeng.people.models import (
    PARTY_STATUSES,
    VOLUNTEER_TRANSITIONS,
    AvailableTime,
    PoliticalStatus,
    RegistrationChannel,
    Skill,
    Volunteer,
    VolunteerStatus,
)

NUMBER_SEQUENCE = "volunteer"


def format_number(seq: int) -> str:
    return f"{getattr(settings, 'VOLUNTEER_NUMBER_PREFIX', 'LF')}{seq:09d}"


@dataclass
class VolunteerInput:
    """What registration takes (DESIGN §4 rule 1). Every entry path builds one of these."""

    name: str
    id_number: str
    phone: str
    org_id: int
    id_type: str = IdType.RIC
    email: str = ""
    address: str = ""
    skills: list[str] = field(default_factory=list)
    available_times: list[str] = field(default_factory=list)
    political_status: str = PoliticalStatus.MASSES
    in_service_party_member: bool = False
    unit_id: int | None = None
    consent: bool = False
    extra_info_consent: bool = False
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_consent: bool = False


@dataclass
class CleanVolunteer:
    """A validated registration, ready to insert (no database writes done yet)."""

    data: VolunteerInput
    id_number: str
    id_index: str
    phone: str
    birth_date: date | None
    gender: str
    skills: list[str]
    guardian_phone: str


def _err(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def volunteer_clean(data: VolunteerInput, *, today: date | None = None) -> CleanVolunteer:
    """Validate one registration without touching the database; raises ValidationError by field.

    Shared by the form, the API and the Excel import so every path enforces the same rules.
    """
    errors: dict[str, list[str]] = {}
    today = today or timezone.localdate()
    name = (data.name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Name is required."))
    elif len(name) > 50:
        errors.setdefault("name", []).append(_("Name is longer than 50 characters."))
    data.name = name
    parsed = None
    try:
        parsed = parse_id(data.id_type, data.id_number)
    except InvalidId as exc:
        errors.setdefault("id_number", []).append(str(exc))
    phone = ""
    try:
        phone = normalize_phone(data.phone)
    except InvalidId as exc:
        errors.setdefault("phone", []).append(str(exc))
    if not data.consent:
        errors.setdefault("consent", []).append(_("Registration needs the volunteer's consent."))
    if data.political_status not in PoliticalStatus.values:
        errors.setdefault("political_status", []).append(_("Unknown political status."))
    if data.in_service_party_member and data.political_status not in PARTY_STATUSES:
        errors.setdefault("in_service_party_member", []).append(
            _("Only party members can be in-service party members.")
        )
    bad_times = [t for t in data.available_times if t not in AvailableTime.values]
    if bad_times:
        errors.setdefault("available_times", []).append(_("Unknown available time: %s") % ", ".join(bad_times))
    skills = sorted({s.strip() for s in data.skills if s and s.strip()})
    if any(len(s) > 50 for s in skills):
        errors.setdefault("skills", []).append(_("A skill name is longer than 50 characters."))
    guardian_phone = ""
    if parsed and parsed.birth_date:
        age = age_on(parsed.birth_date, today)
        if age < settings.MIN_VOLUNTEER_AGE:
            errors.setdefault("id_number", []).append(
                _("Volunteers must be at least %(age)d years old.") % {"age": settings.MIN_VOLUNTEER_AGE}
            )
        elif age < settings.ADULT_AGE:
            if not (data.guardian_name or "").strip():
                errors.setdefault("guardian_name", []).append(_("Minors need a guardian's name."))
            try:
                guardian_phone = normalize_phone(data.guardian_phone)
            except InvalidId as exc:
                errors.setdefault("guardian_phone", []).append(str(exc))
            if not data.guardian_consent:
                errors.setdefault("guardian_consent", []).append(_("Minors need their guardian's consent."))
        if parsed.birth_date > today:
            errors.setdefault("id_number", []).append(_("Birth date in the ID number is in the future."))
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    return CleanVolunteer(
        data=data,
        id_number=parsed.number,
        id_index=crypto.blind_index(data.id_type, parsed.number),
        phone=phone,
        birth_date=parsed.birth_date,
        gender=parsed.gender or "",
        skills=skills,
        guardian_phone=guardian_phone,
    )


def _build(clean: CleanVolunteer, *, number: str, channel: str, now: datetime) -> Volunteer:
    d = clean.data
    full, initials = pinyin.keys(d.name)
    minor = bool(clean.guardian_phone)
    return Volunteer(
        number=number,
        org_id=d.org_id,
        unit_id=d.unit_id,
        name=d.name,
        name_pinyin=full,
        name_initials=initials,
        id_type=d.id_type,
        id_number_encrypted=crypto.encrypt(clean.id_number),
        id_index=clean.id_index,
        id_masked=mask_id(clean.id_number),
        gender=clean.gender,
        birth_date=clean.birth_date,
        phone=clean.phone,
        email=(d.email or "").strip(),
        address=(d.address or "").strip() if d.extra_info_consent or channel != RegistrationChannel.SELF else "",
        available_times=list(d.available_times),
        political_status=d.political_status,
        in_service_party_member=d.in_service_party_member,
        channel=channel,
        consent_at=now,
        extra_info_consent=d.extra_info_consent,
        guardian_name=(d.guardian_name or "").strip() if minor else "",
        guardian_phone=clean.guardian_phone,
        guardian_consent_at=now if minor else None,
    )


def _check_target_org(actor, org_id: int, *, self_service: bool) -> Org:
    """Volunteers belong to a station or point; staff may only register into their own subtree."""
    org = Org.objects.filter(pk=org_id).first()
    if org is None or (not self_service and not scope.allows(actor, Perm.CHANGE, org)):
        raise _err("org_id", _("Choose a station you are allowed to register volunteers for."))
    if org.level not in (OrgLevel.STATION, OrgLevel.POINT, OrgLevel.SUBCENTER):
        raise _err("org_id", _("Volunteers register with a station (or a sub-center), not with the center."))
    return org


def _check_unit(unit_id: int | None, org: Org) -> None:
    if unit_id is None:
        return
    unit = Unit.objects.select_related("org").filter(pk=unit_id).first()
    if unit is None or not (org.path.startswith(unit.org.path) or unit.org.path.startswith(org.path)):
        raise _err("unit_id", _("The unit does not belong to this station's tree."))


def _attach_skills(volunteers: list[Volunteer], skill_lists: list[list[str]]) -> None:
    names = sorted({s for lst in skill_lists for s in lst})
    if not names:
        return
    existing = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    missing = [Skill(name=n) for n in names if n not in existing]
    if missing:
        Skill.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    Through = Volunteer.skills.through
    rows = [
        Through(volunteer_id=v.pk, skill_id=existing[s])
        for v, lst in zip(volunteers, skill_lists, strict=True)
        for s in lst
    ]
    Through.objects.bulk_create(rows, batch_size=5000)


def volunteer_register(
    *,
    actor,
    data: VolunteerInput,
    channel: str = RegistrationChannel.STAFF,
    password: str | None = None,
) -> Volunteer:
    """Register one volunteer. Self-registration creates the login account and waits for approval.

    Staff entry is scoped to the staff member's subtree. Either way the station approves.
    """
    self_service = channel == RegistrationChannel.SELF
    clean = volunteer_clean(data)
    with transaction.atomic():
        org = _check_target_org(actor, data.org_id, self_service=self_service)
        _check_unit(data.unit_id, org)
        if Volunteer.objects.filter(id_index=clean.id_index).exists():
            raise _err("id_number", _("A volunteer with this ID number is already registered."))
        number = format_number(allocate(NUMBER_SEQUENCE)[0])
        volunteer = _build(clean, number=number, channel=channel, now=timezone.now())
        user = None
        if self_service:
            User = get_user_model()
            if User.objects.filter(phone=clean.phone).exists():
                raise _err("phone", _("This mobile number already has an account. Log in instead."))
            user = User(username=number, phone=clean.phone, display_name=data.name)
            if password:
                from django.contrib.auth.password_validation import validate_password

                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    raise ValidationError({"password": exc.messages}) from None
            user.set_password(password) if password else user.set_unusable_password()
            user.save()
            RoleAssignment.objects.create(user=user, role=Role.VOLUNTEER, org=org)
            volunteer.user = user
        try:
            with transaction.atomic():
                volunteer.save()
        except IntegrityError:
            raise _err("id_number", _("A volunteer with this ID number is already registered.")) from None
        _attach_skills([volunteer], [clean.skills])
        audit.record(
            actor=actor if actor is not None and actor.is_authenticated else user,
            action="volunteer.register",
            obj=volunteer,
            changes={"channel": channel, "org": org.pk, "status": volunteer.status},
        )
    return volunteer


def _transition(volunteer: Volunteer, to: str) -> None:
    if to not in VOLUNTEER_TRANSITIONS.get(volunteer.status, set()):
        raise ServiceError(
            _("A registration that is “%(from)s” cannot become “%(to)s”.")
            % {"from": volunteer.get_status_display(), "to": VolunteerStatus(to).label},
            code="invalid_transition",
        )


def _locked_in_scope(actor, volunteer_id: int, perm: Perm) -> Volunteer:
    qs = scope.scoped(Volunteer.objects.select_for_update(), actor, perm)
    volunteer = qs.filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFound()
    return volunteer


def volunteer_approve(*, actor, volunteer_id: int) -> Volunteer:
    """The station approves a pending registration."""
    with transaction.atomic():
        volunteer = _locked_in_scope(actor, volunteer_id, Perm.APPROVE)
        before = audit.snapshot(volunteer, ["status", "rejection_reason"])
        _transition(volunteer, VolunteerStatus.APPROVED)
        volunteer.status = VolunteerStatus.APPROVED
        volunteer.rejection_reason = ""
        volunteer.reviewed_at = timezone.now()
        volunteer.reviewed_by = actor
        volunteer.save(update_fields=["status", "rejection_reason", "reviewed_at", "reviewed_by", "updated_at"])
        audit.record(actor=actor, action="volunteer.approve", obj=volunteer, changes=audit.diff(before, volunteer))
    return volunteer


def volunteer_reject(*, actor, volunteer_id: int, reason: str) -> Volunteer:
    """Reject with a reason the applicant sees on their page."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the applicant a reason for the rejection."), code="reason_required", field="reason")
    with transaction.atomic():
        volunteer = _locked_in_scope(actor, volunteer_id, Perm.APPROVE)
        before = audit.snapshot(volunteer, ["status", "rejection_reason"])
        _transition(volunteer, VolunteerStatus.REJECTED)
        volunteer.status = VolunteerStatus.REJECTED
        volunteer.rejection_reason = reason[:300]
        volunteer.reviewed_at = timezone.now()
        volunteer.reviewed_by = actor
        volunteer.save(update_fields=["status", "rejection_reason", "reviewed_at", "reviewed_by", "updated_at"])
        audit.record(actor=actor, action="volunteer.reject", obj=volunteer, changes=audit.diff(before, volunteer))
    return volunteer


def volunteer_reveal_id(*, actor, volunteer: Volunteer) -> str:
    """The full ID number, for roles that need it; every reveal is audited (DESIGN §4 rule 3)."""
    if not scope.allows(actor, Perm.VIEW_ID, volunteer.org):
        raise NotFound()
    audit.record(actor=actor, action="volunteer.reveal_id", obj=volunteer)
    return crypto.decrypt(volunteer.id_number_encrypted)
