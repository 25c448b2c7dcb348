"""The export: `volunteer_list` streamed through openpyxl's write-only mode, masked unless asked and allowed."""

import tempfile
from dataclasses import dataclass

import openpyxl
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from leifeng.core import audit, crypto
from leifeng.core.errors import PermissionDenied
from leifeng.core.excel import text_safe_row
from leifeng.core.idnumbers import Gender, IdType
from leifeng.orgs.models import Org
from leifeng.people.codes import AuditAction
from leifeng.people.excel.columns import (
    BATCH_SIZE,
    COLUMNS,
    DATA_SHEET,
    EXPORT_EXTRA,
    GENDER_ZH,
    ID_TYPE_ZH,
    NO,
    POLITICAL_ZH,
    TIME_ZH,
    YES,
    _zh,
)
from leifeng.people.excel.validate import _common_org
from leifeng.people.models import (
    AvailableTime,
    PoliticalStatus,
    RegistrationChannel,
    Skill,
    VolunteerStatus,
)
from leifeng.people.policy import volunteer_policy
from leifeng.people.selectors import VolunteerFilters, volunteer_list

# ------------------------------------------------------------------------------------------------ export


@dataclass
class ExportResult:
    file: object  # a binary temporary file, at position 0; the caller closes it (FileResponse does)
    count: int
    unmasked: bool


def _station_labels() -> dict[int, str]:
    """Org id → 'parent/name' for stations whose name is not unique, so an export re-imports unambiguously."""
    dup_names = list(
        Org.objects.values("name").annotate(n=Count("id")).filter(n__gt=1).values_list("name", flat=True).order_by()
    )
    if not dup_names:
        return {}
    orgs = list(Org.objects.filter(name__in=dup_names).values_list("id", "name", "path"))
    parents = dict(
        Org.objects.filter(path__in={p[: -Org.steplen] for _, _, p in orgs if len(p) > Org.steplen})
        .values_list("path", "name")
        .order_by()
    )
    return {i: f"{parents[p[: -Org.steplen]]}/{n}" if p[: -Org.steplen] in parents else n for i, n, p in orgs}


def volunteer_export(*, actor, filters: VolunteerFilters | None = None, unmasked: bool = False) -> ExportResult:
    """`volunteer_list` as an .xlsx in the import template's columns (plus number, status, dates).

    ID numbers are masked unless `unmasked` and the actor holds Perm.VIEW_ID over *every* exported
    volunteer; otherwise the export is refused rather than silently mixing masked and full numbers.
    An unmasked export is audited with its count (every unmasked read is recorded).
    """
    filters = filters or VolunteerFilters()
    qs = volunteer_list(actor=actor, filters=filters)
    if unmasked and not volunteer_policy.all_ids_visible(actor, qs):
        raise PermissionDenied(
            _(
                "Full ID numbers are only exported for stations where you may see them; "
                "narrow the list or export it masked."
            )
        )
    labels = _station_labels()
    id_types = _zh(IdType, ID_TYPE_ZH)
    political = _zh(PoliticalStatus, POLITICAL_ZH)
    times = _zh(AvailableTime, TIME_ZH)
    genders = _zh(Gender, GENDER_ZH)
    statuses = {value: str(label) for value, label in VolunteerStatus.choices}
    channels = {value: str(label) for value, label in RegistrationChannel.choices}
    tz = timezone.get_current_timezone()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    for i, c in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    ws.append(text_safe_row(ws, [c.header for c in COLUMNS] + list(EXPORT_EXTRA)))
    count = 0
    org_paths: set[str] = set()
    skills = Prefetch("skills", queryset=Skill.objects.only("id", "name"), to_attr="skill_list")
    for v in qs.prefetch_related(skills).iterator(chunk_size=BATCH_SIZE):
        count += 1
        org_paths.add(v.org.path)
        ws.append(
            text_safe_row(
                ws,
                [
                    v.name,
                    id_types.get(v.id_type, v.id_type),
                    crypto.decrypt(v.id_number_encrypted) if unmasked else v.id_masked,
                    v.phone,
                    labels.get(v.org_id, v.org.name),
                    political.get(v.political_status, v.political_status),
                    YES if v.in_service_party_member else NO,
                    "、".join(s.name for s in v.skill_list) or None,  # None: an empty cell costs less than ""
                    "、".join(times.get(t, t) for t in v.available_times) or None,
                    v.email or None,
                    v.guardian_name or None,
                    v.guardian_phone or None,
                    YES if v.guardian_consent_at else None,
                    genders.get(v.gender, v.gender) or None,
                    v.birth_date,
                    v.number,
                    statuses.get(v.status, v.status),
                    channels.get(v.channel, v.channel),
                    timezone.localtime(v.created_at, tz).replace(tzinfo=None),
                ],
            )
        )
    out = tempfile.TemporaryFile()  # noqa: SIM115 — handed to the caller (FileResponse closes it)
    wb.save(out)
    out.seek(0)
    audit.record(
        actor=actor,
        action=AuditAction.VOLUNTEER_EXPORT_UNMASKED if unmasked else AuditAction.VOLUNTEER_EXPORT,
        object_type="people.volunteer",
        org=_common_org(org_paths),
        changes={
            "count": count,
            "unmasked": unmasked,
            "filters": {k: v for k, v in vars(filters).items() if v not in ("", None)},
        },
    )
    return ExportResult(file=out, count=count, unmasked=unmasked)
