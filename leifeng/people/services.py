"""Writes about volunteers (HackSoft services): keyword-only, atomic, validated, audited."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core import audit, crypto, scope
from leifeng.core.errors import NotFound, ServiceError
from leifeng.core.idnumbers import Gender, IdType, InvalidId, age_on, mask_id, normalize_phone, parse_id
from leifeng.core.numbers import allocate
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org, Unit
from leifeng.people import pinyin
from leifeng.people.codes import AuditAction, ErrorCode
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
from leifeng.people.policy import REGISTRABLE_LEVELS, volunteer_policy

NUMBER_SEQUENCE = "volunteer"

# What the volunteer agrees to (条例 Art. 7, 20); shown next to the checkboxes on every entry path.
CONSENT_TEXT = gettext_lazy(
    "I agree that my station records my name, ID type and number, gender, birth date, skills, available time "
    "and mobile number to manage volunteer service and issue service records, as the Volunteer Service "
    "Regulations provide. My ID number is stored encrypted and shown masked; it is not given to third parties."
)
EXTRA_INFO_CONSENT_TEXT = gettext_lazy(
    "I also agree that my station keeps the optional information below (e-mail, address). "
    "I may ask for it to be deleted at any time."
)

# Fields an edit may change, and what the audit diff compares (never the plain or encrypted ID number).
AUDITED_FIELDS = [
    "org_id",
    "unit_id",
    "name",
    "id_type",
    "id_masked",
    "gender",
    "birth_date",
    "phone",
    "email",
    "address",
    "available_times",
    "political_status",
    "in_service_party_member",
    "extra_info_consent",
    "guardian_name",
    "guardian_phone",
    "status",
    "rejection_reason",
]


def format_number(seq: int) -> str:
    return f"{getattr(settings, 'VOLUNTEER_NUMBER_PREFIX', 'LF')}{seq:09d}"


def split_skills(text: str) -> list[str]:
    """'急救、文艺表演, 法律咨询' → ['急救', '文艺表演', '法律咨询'] (Chinese and Latin separators)."""
    return [s.strip() for s in re.split(r"[,，、;；\n]+", text or "") if s.strip()]


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
    # Only for documents that do not carry them (passports, permits); a resident ID number decides these.
    birth_date: date | None = None
    gender: str = ""


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


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for key, messages in exc.message_dict.items() if hasattr(exc, "error_dict") else [("__all__", exc.messages)]:
        errors.setdefault(key, []).extend(messages)


TEXT_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "phone",
    "email",
    "address",
    "political_status",
    "guardian_name",
    "guardian_phone",
    "gender",
)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list | tuple) and any(isinstance(v, str) and "\x00" in v for v in value)


def _refuse_nul(data: VolunteerInput, errors: dict[str, list[str]]) -> None:
    """A NUL character is no text anyone typed, and PostgreSQL cannot store it: refused by field (as Django's
    form fields do), so the API and the import cannot reach the database with one."""
    for name in (*TEXT_FIELDS, "skills", "available_times"):
        if _has_nul(getattr(data, name, None)):
            errors.setdefault(name, []).append(str(ProhibitNullCharactersValidator.message))


def volunteer_clean(data: VolunteerInput, *, today: date | None = None) -> CleanVolunteer:
    """Validate one registration without touching the database; raises ValidationError by field.

    Shared by the form, the API and the Excel import so every path enforces the same rules.
    """
    errors: dict[str, list[str]] = {}
    _refuse_nul(data, errors)
    today = today or timezone.localdate()
    name = (data.name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Name is required."))
    elif len(name) > 50:
        errors.setdefault("name", []).append(_("Name is longer than 50 characters."))
    data.name = name
    parsed = None
    if data.id_type not in IdType.values:
        errors.setdefault("id_type", []).append(_("Unknown ID type."))
    else:
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
    # Anything beyond the required record needs its own consent (条例 Art. 7, 20).
    data.email = (data.email or "").strip()
    data.address = (data.address or "").strip()
    if (data.email or data.address) and not data.extra_info_consent:
        errors.setdefault("extra_info_consent", []).append(
            _("E-mail and address are optional and need the volunteer's consent to be kept.")
        )
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors.setdefault("email", []).append(_("Enter a valid e-mail address."))
    if len(data.address) > 200:
        errors.setdefault("address", []).append(_("Address is longer than 200 characters."))
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
    birth_date, gender = (parsed.birth_date, parsed.gender or "") if parsed else (None, "")
    if data.id_type != IdType.RIC:
        # The document says nothing: ask, since rule 1 records them and rule 4 needs the age.
        birth_date, gender = data.birth_date, data.gender or ""
        if birth_date is None:
            errors.setdefault("birth_date", []).append(_("Enter the birth date shown on the document."))
        if gender not in Gender.values:
            errors.setdefault("gender", []).append(_("Choose the gender shown on the document."))
    guardian_phone = ""
    if birth_date:
        age = age_on(birth_date, today)
        if birth_date > today:
            errors.setdefault("id_number", []).append(_("The birth date is in the future."))
        elif age < settings.MIN_VOLUNTEER_AGE:
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
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    return CleanVolunteer(
        data=data,
        id_number=parsed.number,
        id_index=crypto.blind_index(data.id_type, parsed.number),
        phone=phone,
        birth_date=birth_date,
        gender=gender,
        skills=skills,
        guardian_phone=guardian_phone,
    )


def _apply(volunteer: Volunteer, clean: CleanVolunteer, *, now: datetime) -> None:
    """Copy a validated input onto a row: encrypted ID, blind index, masked form, pinyin keys."""
    d = clean.data
    full, initials = pinyin.keys(d.name)
    minor = bool(clean.guardian_phone)
    volunteer.org_id = d.org_id
    volunteer.unit_id = d.unit_id
    volunteer.name = d.name
    volunteer.name_pinyin = full
    volunteer.name_initials = initials
    if volunteer.id_index != clean.id_index or volunteer.id_type != d.id_type:
        volunteer.id_type = d.id_type
        volunteer.id_number_encrypted = crypto.encrypt(clean.id_number)
        volunteer.id_index = clean.id_index
        volunteer.id_masked = mask_id(clean.id_number)
    volunteer.gender = clean.gender
    volunteer.birth_date = clean.birth_date
    volunteer.phone = clean.phone
    volunteer.extra_info_consent = d.extra_info_consent
    volunteer.email = d.email if d.extra_info_consent else ""
    volunteer.address = d.address if d.extra_info_consent else ""
    volunteer.available_times = list(d.available_times)
    volunteer.political_status = d.political_status
    volunteer.in_service_party_member = d.in_service_party_member
    volunteer.guardian_name = (d.guardian_name or "").strip() if minor else ""
    if minor and (volunteer.guardian_phone != clean.guardian_phone or volunteer.guardian_consent_at is None):
        volunteer.guardian_consent_at = now
    elif not minor:
        volunteer.guardian_consent_at = None
    volunteer.guardian_phone = clean.guardian_phone


def _build(clean: CleanVolunteer, *, number: str, channel: str, now: datetime) -> Volunteer:
    volunteer = Volunteer(number=number, channel=channel, consent_at=now)
    _apply(volunteer, clean, now=now)
    return volunteer


def _check_target_org(actor, org_id: int | None, *, self_service: bool) -> Org:
    """Volunteers belong to a station or point; staff may only register into their own subtree."""
    org = Org.objects.filter(pk=org_id).first() if org_id else None
    if org is None or not volunteer_policy.may_register_at(actor, org, self_service=self_service):
        raise _err("org_id", _("Choose a station you are allowed to register volunteers for."))
    if org.level not in REGISTRABLE_LEVELS:
        raise _err("org_id", _("Volunteers register with a station (or a sub-center), not with the center."))
    return org


def _check_unit(unit_id: int | None, org: Org) -> None:
    if unit_id is None:
        return
    unit = Unit.objects.select_related("org").filter(pk=unit_id).first()
    if unit is None or not (org.path.startswith(unit.org.path) or unit.org.path.startswith(org.path)):
        raise _err("unit_id", _("The unit does not belong to this station's tree."))


def _skill_ids(names: list[str]) -> dict[str, int]:
    """Skill name → id, creating the names nobody has used yet."""
    if not names:
        return {}
    existing = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    missing = [Skill(name=n) for n in names if n not in existing]
    if missing:
        Skill.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    return existing


def _attach_skills(volunteers: list[Volunteer], skill_lists: list[list[str]]) -> None:
    existing = _skill_ids(sorted({s for lst in skill_lists for s in lst}))
    if not existing:
        return
    Through = Volunteer.skills.through
    rows = [
        Through(volunteer_id=v.pk, skill_id=existing[s])
        for v, lst in zip(volunteers, skill_lists, strict=True)
        for s in lst
    ]
    Through.objects.bulk_create(rows, batch_size=5000)


def _validate_all(actor, data: VolunteerInput, *, self_service: bool, exclude_pk: int | None = None):
    """Every field rule plus the database checks, reported together so a form shows all problems at once."""
    errors: dict[str, list[str]] = {}
    clean = org = None
    try:
        clean = volunteer_clean(data)
    except ValidationError as exc:
        _merge(errors, exc)
    try:
        org = _check_target_org(actor, data.org_id, self_service=self_service)
        _check_unit(data.unit_id, org)
    except ValidationError as exc:
        _merge(errors, exc)
    if clean is not None:
        dupes = Volunteer.objects.filter(id_index=clean.id_index)
        if exclude_pk is not None:
            dupes = dupes.exclude(pk=exclude_pk)
        if dupes.exists():
            errors.setdefault("id_number", []).append(_("A volunteer with this ID number is already registered."))
    if errors:
        raise ValidationError(errors)
    return clean, org


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
    with transaction.atomic():
        errors: dict[str, list[str]] = {}
        clean = org = None
        try:
            clean, org = _validate_all(actor, data, self_service=self_service)
        except ValidationError as exc:
            _merge(errors, exc)
        User = get_user_model()
        user = None
        if self_service:
            phone = clean.phone if clean else ""
            if phone and User.objects.filter(phone=phone).exists():
                errors.setdefault("phone", []).append(_("This mobile number already has an account. Log in instead."))
            user = User(phone=phone or None, display_name=(data.name or "").strip()[:50])
            if not password:
                errors.setdefault("password", []).append(_("Choose a password to log in with."))
            elif _has_nul(password):
                errors.setdefault("password", []).append(str(ProhibitNullCharactersValidator.message))
            else:
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    errors.setdefault("password", []).extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        assert clean is not None and org is not None
        number = format_number(allocate(NUMBER_SEQUENCE)[0])
        volunteer = _build(clean, number=number, channel=channel, now=timezone.now())
        try:
            with transaction.atomic():
                if user is not None:
                    user.username = number
                    user.set_password(password)
                    user.save()
                    RoleAssignment.objects.create(user=user, role=Role.VOLUNTEER, org=org)
                    volunteer.user = user
                volunteer.save()
        except IntegrityError:
            # Two registrations raced past the checks above; the unique indexes decide.
            if Volunteer.objects.filter(id_index=clean.id_index).exists():
                raise _err("id_number", _("A volunteer with this ID number is already registered.")) from None
            raise _err("phone", _("This mobile number already has an account. Log in instead.")) from None
        _attach_skills([volunteer], [clean.skills])
        audit.record(
            actor=actor if actor is not None and actor.is_authenticated else user,
            action=AuditAction.VOLUNTEER_REGISTER,
            obj=volunteer,
            changes={"channel": channel, "org": org.pk, "status": volunteer.status},
        )
    return volunteer


def _locked(actor, volunteer_id: int, perm: Perm) -> Volunteer:
    """The row, locked for this transaction; 404 out of sight, 403 when seen but not `perm`.

    `of=("self",)` locks only the volunteer row, never the shared org row it is joined with.
    """
    volunteer = Volunteer.objects.select_for_update(of=("self",)).select_related("org").filter(pk=volunteer_id).first()
    volunteer_policy.require(actor, perm, volunteer)
    return volunteer


def _set_status(
    actor, volunteer_id: int, frm: str, to: str, *, action: AuditAction, reason: str = "", note: str = ""
) -> Volunteer:
    """Move `frm` → `to`. Both ends are checked: "approve" and "reinstate" both end in APPROVED."""
    with transaction.atomic():
        volunteer = _locked(actor, volunteer_id, Perm.APPROVE)
        before = audit.snapshot(volunteer, ["status", "rejection_reason"])
        VOLUNTEER_TRANSITIONS.move_from(volunteer, frm, to)
        volunteer.rejection_reason = reason[:300]
        volunteer.reviewed_at = timezone.now()
        volunteer.reviewed_by = actor
        volunteer.save(update_fields=["status", "rejection_reason", "reviewed_at", "reviewed_by", "updated_at"])
        audit.record(actor=actor, action=action, obj=volunteer, changes=audit.diff(before, volunteer), note=note)
    return volunteer


def volunteer_approve(*, actor, volunteer_id: int) -> Volunteer:
    """The station approves a pending registration."""
    return _set_status(
        actor, volunteer_id, VolunteerStatus.PENDING, VolunteerStatus.APPROVED, action=AuditAction.VOLUNTEER_APPROVE
    )


def volunteer_reject(*, actor, volunteer_id: int, reason: str) -> Volunteer:
    """Reject with a reason the applicant sees on their page."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(
            _("Give the applicant a reason for the rejection."), code=ErrorCode.REASON_REQUIRED, field="reason"
        )
    return _set_status(
        actor,
        volunteer_id,
        VolunteerStatus.PENDING,
        VolunteerStatus.REJECTED,
        action=AuditAction.VOLUNTEER_REJECT,
        reason=reason,
    )


def volunteer_suspend(*, actor, volunteer_id: int, reason: str = "") -> Volunteer:
    """Take an approved volunteer off duty (moved away, misconduct); the reason goes to the audit trail."""
    return _set_status(
        actor,
        volunteer_id,
        VolunteerStatus.APPROVED,
        VolunteerStatus.SUSPENDED,
        action=AuditAction.VOLUNTEER_SUSPEND,
        note=(reason or "").strip(),
    )


def volunteer_reinstate(*, actor, volunteer_id: int) -> Volunteer:
    """Bring a suspended volunteer back."""
    return _set_status(
        actor, volunteer_id, VolunteerStatus.SUSPENDED, VolunteerStatus.APPROVED, action=AuditAction.VOLUNTEER_REINSTATE
    )


def _save_changes(volunteer: Volunteer, clean: CleanVolunteer, *, skills_before: list[str], **also) -> dict:
    """Write the validated edit (and the fields in `also`), keep the account in step, return the audit diff."""
    before = audit.snapshot(volunteer, AUDITED_FIELDS)
    _apply(volunteer, clean, now=timezone.now())
    for name, value in also.items():
        setattr(volunteer, name, value)
    try:
        with transaction.atomic():
            volunteer.save()
            if volunteer.user_id:
                User = get_user_model()
                User.objects.filter(pk=volunteer.user_id).update(
                    phone=volunteer.phone, display_name=volunteer.name[:50]
                )
    except IntegrityError:
        if Volunteer.objects.filter(id_index=volunteer.id_index).exclude(pk=volunteer.pk).exists():
            raise _err("id_number", _("A volunteer with this ID number is already registered.")) from None
        raise _err("phone", _("This mobile number already belongs to another account.")) from None
    changes = audit.diff(before, volunteer)
    if "org_id" in changes and volunteer.user_id:
        # The account's volunteer role follows the registration to its new station.
        RoleAssignment.objects.filter(user_id=volunteer.user_id, role=Role.VOLUNTEER).update(org_id=volunteer.org_id)
    if sorted(clean.skills) != sorted(skills_before):
        ids = _skill_ids(clean.skills)
        volunteer.skills.set(ids.values())
        changes["skills"] = [sorted(skills_before), sorted(clean.skills)]
    if "id_masked" in changes or "id_type" in changes:
        changes["id_number"] = "changed"  # the masked diff alone may not show it
    return changes


def _keep_or_replace_id(volunteer: Volunteer, data: VolunteerInput) -> None:
    """An empty ID field on an edit form means "unchanged": decrypt in memory, never shown or logged."""
    if not (data.id_number or "").strip():
        data.id_number = crypto.decrypt(volunteer.id_number_encrypted)
        data.id_type = data.id_type or volunteer.id_type


def volunteer_update(*, actor, volunteer_id: int, data: VolunteerInput) -> Volunteer:
    """Staff correct a record. A new ID number is re-validated and re-indexed; the diff is audited."""
    with transaction.atomic():
        volunteer = _locked(actor, volunteer_id, Perm.CHANGE)
        _keep_or_replace_id(volunteer, data)
        data.consent = True  # given at registration (consent_at); an edit does not withdraw it
        clean, _org = _validate_all(actor, data, self_service=False, exclude_pk=volunteer.pk)
        skills_before = list(volunteer.skills.values_list("name", flat=True))
        changes = _save_changes(volunteer, clean, skills_before=skills_before)
        audit.record(actor=actor, action=AuditAction.VOLUNTEER_UPDATE, obj=volunteer, changes=changes)
    return volunteer


def volunteer_resubmit(*, actor, data: VolunteerInput) -> Volunteer:
    """The applicant corrects a rejected registration and sends it back for approval (rejected → pending)."""
    if actor is None or not actor.is_authenticated:
        raise NotFound()
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().filter(user=actor).first()
        if volunteer is None:
            raise NotFound()
        VOLUNTEER_TRANSITIONS.check(volunteer.status, VolunteerStatus.PENDING)  # written by _save_changes below
        _keep_or_replace_id(volunteer, data)
        clean, _org = _validate_all(actor, data, self_service=True, exclude_pk=volunteer.pk)
        skills_before = list(volunteer.skills.values_list("name", flat=True))
        changes = _save_changes(
            volunteer,
            clean,
            skills_before=skills_before,
            status=VolunteerStatus.PENDING,
            rejection_reason="",
            consent_at=timezone.now(),
        )
        scope.forget(actor)  # the volunteer role may have moved with the station
        audit.record(actor=actor, action=AuditAction.VOLUNTEER_RESUBMIT, obj=volunteer, changes=changes)
    return volunteer


def volunteer_reveal_id(*, actor, volunteer: Volunteer) -> str:
    """The full ID number, for roles that need it; every reveal is audited (DESIGN §4 rule 3).

    Someone who may see the volunteer but not the ID gets 403; someone who may not see it, 404.
    """
    volunteer_policy.require(actor, Perm.VIEW_ID, volunteer, _("Your role may not see full ID numbers."))
    audit.record(actor=actor, action=AuditAction.VOLUNTEER_REVEAL_ID, obj=volunteer)
    return crypto.decrypt(volunteer.id_number_encrypted)
