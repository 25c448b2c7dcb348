"""Orders out to Excel: the figures page and the staff inbox's list (the same filters), as .xlsx.

Residents type the texts (name, address, need, comment) on a public page, so a text is always written as a
text cell (`core.excel.text_safe_row`): "=HYPERLINK(…)" stays words and never becomes a formula in the staff's
spreadsheet.
"""

import tempfile
from dataclasses import dataclass

import openpyxl
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.utils import get_column_letter

from leifeng.core import audit
from leifeng.core.excel import text_safe_row
from leifeng.core.roles import Perm
from leifeng.orders import selectors
from leifeng.orders.codes import AuditAction
from leifeng.orders.models import OrderChannel, OrderStatus
from leifeng.orgs import policy as org_policy

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FETCH = 2000


@dataclass
class ExportResult:
    file: object  # a binary temporary file at position 0; the caller closes it (FileResponse does)
    count: int


def _sheet(wb, title: str, headers: list[str], widths: list[int]):
    ws = wb.create_sheet(title)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append(text_safe_row(ws, headers))
    return ws


def _save(wb) -> object:
    out = tempfile.TemporaryFile()  # noqa: SIM115 — handed to the caller (FileResponse closes it)
    wb.save(out)
    out.seek(0)
    return out


def figures_export(*, actor, org_id: int | None = None) -> ExportResult:
    """The figures page of one node (its subtree, the nodes just below it, the teams) and the count per status."""
    data = selectors.figures(actor=actor, org_id=org_id)
    wb = openpyxl.Workbook(write_only=True)
    headers = [
        _("Node or team"),
        _("Number of orders"),
        _("Closed"),
        _("Median time to accept (h)"),
        _("Mean time to accept (h)"),
        _("Median time to complete (h)"),
        _("Mean time to complete (h)"),
        _("Rated orders"),
        _("Satisfaction (average stars)"),
        _("Low ratings"),
    ]
    ws = _sheet(wb, _("Figures"), headers, [28] + [14] * 9)
    rows = [data["total"], *data["nodes"]]
    if data["teams"]:
        rows.append(None)
    rows += data["teams"]
    for f in rows:
        if f is None:
            ws.append(text_safe_row(ws, [pgettext("order", "Teams")]))
            continue
        ws.append(
            text_safe_row(
                ws,
                [
                    f.label,
                    f.volume,
                    f.closed,
                    f.median_accept_h,
                    f.avg_accept_h,
                    f.median_complete_h,
                    f.avg_complete_h,
                    f.rated,
                    f.satisfaction,
                    f.low_ratings,
                ],
            )
        )
    by_status = _sheet(wb, _("By status"), [_("Status"), _("Number of orders")], [16, 10])
    for _value, label, n in data["statuses"]:
        by_status.append(text_safe_row(by_status, [str(label), n]))
    audit.record(
        actor=actor,
        action=AuditAction.ORDER_FIGURES_EXPORT,
        object_type="orgs.org",
        object_id=str(data["org"].pk),
        object_repr=data["org"].name,
        org=data["org"],
    )
    return ExportResult(file=_save(wb), count=len(rows))


def orders_export(*, actor, filters: selectors.OrderFilters) -> ExportResult:
    """The inbox list with its filters (the actor's subtree only), one order a row; audited with the count."""
    qs = selectors.order_list(actor=actor, filters=filters).select_related("origin_org")
    statuses = {value: str(label) for value, label in OrderStatus.choices}
    channels = {value: str(label) for value, label in OrderChannel.choices}
    tz = timezone.get_current_timezone()

    def local(dt):
        return timezone.localtime(dt, tz).replace(tzinfo=None) if dt else None

    wb = openpyxl.Workbook(write_only=True)
    headers = [
        _("Order number"),
        pgettext("order", "Service"),
        _("Status"),
        _("Channel"),
        _("Resident"),
        _("Mobile phone"),
        _("Address"),
        _("Need"),
        _("Wanted from"),
        _("Wanted until"),
        _("Node"),
        _("Serving team"),
        _("Ordered at"),
        _("Accepted at"),
        _("Completed at"),
        _("Minutes served"),
        _("Rating"),
        _("Comment"),
    ]
    ws = _sheet(wb, _("Orders"), headers, [12, 16, 10, 8, 10, 13, 24, 36, 17, 17, 16, 18, 17, 17, 17, 10, 6, 24])
    count = 0
    for o in qs.iterator(chunk_size=FETCH):
        count += 1
        ws.append(
            text_safe_row(
                ws,
                [
                    o.number,
                    o.title,
                    statuses.get(o.status, o.status),
                    channels.get(o.channel, o.channel),
                    o.resident_name,
                    o.resident_phone,
                    o.address or None,
                    o.description or None,
                    local(o.wanted_from),
                    local(o.wanted_until),
                    o.org.name,
                    o.team.name if o.team else None,
                    local(o.submitted_at),
                    local(o.taken_at),
                    local(o.completed_at),
                    o.minutes_served,
                    o.rating,
                    o.rating_comment or None,
                ],
            )
        )
    audit.record(
        actor=actor,
        action=AuditAction.ORDER_EXPORT,
        object_type="orders.order",
        org=org_policy.orgs(actor, Perm.VIEW).order_by("path").first(),
        changes={"count": count, "filters": {k: v for k, v in vars(filters).items() if v not in ("", None, False)}},
    )
    return ExportResult(file=_save(wb), count=count)
