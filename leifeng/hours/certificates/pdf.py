"""The certificate as an A4 PDF (WeasyPrint, Noto CJK fonts) with a QR code to the public verification page.

Everything printed comes from `Certificate.content`, frozen at issue, so a PDF downloaded years later
says exactly what the verification page says. The document is always in Chinese: it is an official
form (志愿服务记录证明), whatever language the person downloading it reads the site in.
"""

from datetime import date

import segno
import weasyprint
from django.template.loader import render_to_string
from django.utils import translation

from leifeng.core.idnumbers import IdType
from leifeng.hours.certificates.selectors import hours_text, minutes_by_kind
from leifeng.hours.models import Certificate, RecordKind

KIND_LABELS = {RecordKind.VERIFIED.value: "签到签退", RecordKind.BACKFILLED.value: "事后补录"}


def qr_data_uri(url: str) -> str:
    """A QR code (segno, SVG) for the verification URL, inline so WeasyPrint fetches nothing."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=1)


def id_type_label(code: str) -> str:
    with translation.override("zh-hans"):
        return str(IdType(code).label) if code in IdType.values else code


def context(cert: Certificate) -> dict:
    c = cert.content
    by_kind = minutes_by_kind(c["rows"])
    return {
        "c": c,
        "id_type_label": id_type_label(c["id_type"]),
        "period_from": date.fromisoformat(c["period_from"]),
        "period_to": date.fromisoformat(c["period_to"]),
        "issued_on": date.fromisoformat(c["issued_on"]),
        "rows": [{**r, "kind_label": KIND_LABELS.get(r["kind"], r["kind"])} for r in c["rows"]],
        "verified_hours": hours_text(by_kind[RecordKind.VERIFIED]),
        "backfilled_hours": hours_text(by_kind[RecordKind.BACKFILLED]) if by_kind[RecordKind.BACKFILLED] else "",
        "qr": qr_data_uri(c["verification_url"]),
    }


def render_document(cert: Certificate) -> weasyprint.Document:
    """The laid-out document (pages and boxes); `render_pdf` writes it out."""
    with translation.override("zh-hans"):
        html = render_to_string("hours/certificate_pdf.html", context(cert))
    return weasyprint.HTML(string=html, base_url=None).render()


def render_pdf(cert: Certificate) -> bytes:
    return render_document(cert).write_pdf()
