"""Service certificates (志愿服务记录证明): the standard file set of a feature inside the hours app.

services.py (request, issue, refuse, revoke, PDF download), selectors.py (statement, lists, public check),
pdf.py (the A4 document), views.py + urls.py (pages, namespace `hours`), api.py (/api/v1/hours/certificates/).
Who may do what is `hours.policy.certificate_policy`. Callers import the names below from here.
"""

from leifeng.hours.certificates.selectors import (
    Access,
    CertificateFilters,
    Row,
    Statement,
    certificate_access,
    certificate_get,
    certificate_list,
    certificate_verify,
    certifying_orgs,
    hours_text,
    minutes_by_kind,
    revoked_at,
    statement,
    verification_url,
)
from leifeng.hours.certificates.services import (
    CERTIFICATE_FIELDS,
    HEAD_TITLES,
    certificate_issue,
    certificate_pdf,
    certificate_refuse,
    certificate_request,
    certificate_revoke,
)

__all__ = [
    "CERTIFICATE_FIELDS",
    "HEAD_TITLES",
    "Access",
    "CertificateFilters",
    "Row",
    "Statement",
    "certificate_access",
    "certificate_get",
    "certificate_issue",
    "certificate_list",
    "certificate_pdf",
    "certificate_refuse",
    "certificate_request",
    "certificate_revoke",
    "certificate_verify",
    "certifying_orgs",
    "hours_text",
    "minutes_by_kind",
    "revoked_at",
    "statement",
    "verification_url",
]
