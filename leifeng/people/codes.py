"""The error codes and audit actions of people (Saleor's `error_codes.py`).

Both are part of the contract: API clients branch on a code, the audit trail is searched by action, so a
value never changes once published. Generic codes (invalid, conflict, invalid_transition, …) are
`core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    REASON_REQUIRED = "reason_required"
    CONSENT_REQUIRED = "consent_required"
    # the Excel import's file-level refusals
    TOO_LARGE = "too_large"
    NOT_XLSX = "not_xlsx"
    DUPLICATE_HEADER = "duplicate_header"
    MISSING_HEADER = "missing_header"
    TOO_MANY_ROWS = "too_many_rows"
    EMPTY = "empty"


class AuditAction(StrEnum):
    VOLUNTEER_REGISTER = "volunteer.register"
    VOLUNTEER_APPROVE = "volunteer.approve"
    VOLUNTEER_REJECT = "volunteer.reject"
    VOLUNTEER_SUSPEND = "volunteer.suspend"
    VOLUNTEER_REINSTATE = "volunteer.reinstate"
    VOLUNTEER_UPDATE = "volunteer.update"
    VOLUNTEER_RESUBMIT = "volunteer.resubmit"
    VOLUNTEER_REVEAL_ID = "volunteer.reveal_id"
    VOLUNTEER_IMPORT = "volunteer.import"  # one per imported volunteer
    VOLUNTEER_IMPORT_FILE = "volunteer.import_file"  # one per imported file
    VOLUNTEER_EXPORT = "volunteer.export"
    VOLUNTEER_EXPORT_UNMASKED = "volunteer.export_unmasked"
