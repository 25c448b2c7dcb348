"""The hours app's error codes and audit actions (Saleor's `error_codes.py`).

A value is part of the API (clients branch on `error.code`) and of the audit trail (the audit page filters on
`action`): it never changes once published. Generic codes (invalid, not_found, forbidden …) are
`leifeng.core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    # ledger and corrections
    ALREADY_CORRECTED = "already_corrected"
    ALREADY_OPEN = "already_open"
    ALREADY_ANSWERED = "already_answered"
    # back-fill claims
    OWN_HOURS = "own_hours"
    FOUR_EYES = "four_eyes"
    ALREADY_DECIDED = "already_decided"
    NOTHING_TO_CREDIT = "nothing_to_credit"
    # certificates
    BAD_STATUS = "bad_status"
    OWN_CERTIFICATE = "own_certificate"
    NOT_ORGANIZER = "not_organizer"
    NOT_VOLUNTEER = "not_volunteer"
    DUPLICATE = "duplicate"
    NO_HOURS = "no_hours"
    NOT_ISSUED = "not_issued"


class AuditAction(StrEnum):
    SERVICE_RECORD_ADD = "service_record.add"
    CORRECTION_REQUEST = "correction.request"
    CORRECTION_ACCEPTED = "correction.accepted"  # f"correction.{CorrectionStatus}"
    CORRECTION_REJECTED = "correction.rejected"
    HOURS_CLAIM_CREATE = "hours_claim.create"
    HOURS_CLAIM_APPROVED = "hours_claim.approved"  # f"hours_claim.{ClaimStatus}"
    HOURS_CLAIM_REJECTED = "hours_claim.rejected"
    CERTIFICATE_REQUEST = "certificate.request"
    CERTIFICATE_ISSUE = "certificate.issue"
    CERTIFICATE_REFUSE = "certificate.refuse"
    CERTIFICATE_REVOKE = "certificate.revoke"
    CERTIFICATE_DOWNLOAD = "certificate.download"
