"""The activity's report: summary and photos."""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from leifeng.activities.codes import AuditAction, ErrorCode
from leifeng.activities.models import (
    Activity,
    ActivityReport,
    ActivityStatus,
    ReportPhoto,
)
from leifeng.activities.services.base import MAX_PHOTO_BYTES, MAX_PHOTO_SIDE, _for_change
from leifeng.core import audit
from leifeng.core.errors import Conflict, NotFound
from leifeng.core.images import clean_picture


@transaction.atomic
def report_file(*, actor, activity_id: int, summary: str) -> ActivityReport:
    """File (or rewrite) the summary of an activity that is in progress or finished."""
    a = _for_change(actor, Activity, activity_id)
    if a.status not in (ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED):
        raise Conflict(_("A report is filed once the activity has taken place."), code=ErrorCode.NOT_HELD)
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": [_("Write a short summary.")]})
    report, created = ActivityReport.objects.get_or_create(activity=a, defaults={"summary": summary, "filed_by": actor})
    before = {"summary": "" if created else report.summary}
    if not created:
        report.summary, report.filed_by = summary, actor
        report.save(update_fields=["summary", "filed_by", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.REPORT_FILE if created else AuditAction.REPORT_UPDATE,
        obj=report,
        org=a.org,
        changes=audit.diff(before, report),
    )
    return report


def process_photo(upload) -> tuple[ContentFile, int, int]:
    """Check an upload by its content (Pillow), bytes and pixels bounded (the pixel count from the header, before
    decoding), strip EXIF, turn it upright and shrink it to 1600 px: `core.images.clean_picture`.

    Returns a JPEG (or PNG for images with transparency) ready for default storage.
    """
    try:
        pic = clean_picture(
            upload, field="image", max_bytes=MAX_PHOTO_BYTES, max_side=MAX_PHOTO_SIDE, keep_transparency=True
        )
    except ValidationError as e:
        # The report page's own words for an unreadable file (asked for a "photo"); every other refusal as core has it.
        unreadable = _("This file is not a picture we can read; send a JPEG, PNG or WebP.")
        if e.message_dict.get("image") == [unreadable]:
            raise ValidationError(
                {"image": [_("This file is not a picture we can read; send a JPEG, PNG or WebP photo.")]}
            ) from None
        raise
    return pic.file, pic.width, pic.height


@transaction.atomic
def report_add_photo(*, actor, activity_id: int, upload, caption: str = "") -> ReportPhoto:
    """Add a photo to the activity's report (the report must be filed first)."""
    a = _for_change(actor, Activity, activity_id)
    report = ActivityReport.objects.filter(activity=a).first()
    if report is None:
        raise Conflict(_("File the summary first, then add photos."), code=ErrorCode.NO_REPORT)
    content, width, height = process_photo(upload)
    photo = ReportPhoto(report=report, caption=(caption or "").strip()[:120], width=width, height=height)
    photo.image.save(content.name, content, save=False)
    photo.save()
    audit.record(actor=actor, action=AuditAction.REPORT_ADD_PHOTO, obj=report, org=a.org, note=photo.image.name)
    return photo


@transaction.atomic
def report_delete_photo(*, actor, photo_id: int) -> None:
    photo = ReportPhoto.objects.select_related("report").filter(pk=photo_id).first()
    if photo is None:
        raise NotFound()
    a = _for_change(actor, Activity, photo.report.activity_id)
    name = photo.image.name
    photo.delete()
    transaction.on_commit(lambda: photo.image.storage.delete(name))
    audit.record(actor=actor, action=AuditAction.REPORT_DELETE_PHOTO, obj=photo.report, org=a.org, note=name)
