"""The attendance app's error codes and audit actions (Saleor's `error_codes.py`).

A value is part of the API (the check-in apps branch on `error.code`) and of the audit trail: it never changes
once published. Generic codes (invalid, not_found, forbidden …) are `leifeng.core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    # kiosk codes and the place
    BAD_TOKEN = "bad_token"
    STALE_TOKEN = "stale_token"
    POSITION_NEEDED = "position_needed"
    BAD_POSITION = "bad_position"
    OUTSIDE_GEOFENCE = "outside_geofence"
    # check-in / check-out
    KEY_REUSED = "key_reused"
    NOT_SIGNED_UP = "not_signed_up"
    TOO_EARLY = "too_early"
    POST_ENDED = "post_ended"
    # roll call, duration codes, on someone's behalf
    ALREADY_PRESENT = "already_present"
    BAD_CODE = "bad_code"
    ALREADY_IN = "already_in"
    NOT_CHECKED_IN = "not_checked_in"


class AuditAction(StrEnum):
    KIOSK_RESET = "attendance.kiosk_reset"
    ROLL_CALL = "attendance.roll_call"
    DURATION_CODE = "attendance.duration_code"
    AUTO_CLOSE = "attendance.auto_close"
    STAFF_CHECK_IN = "attendance.staff_check_in"  # f"attendance.staff_check_{action}"
    STAFF_CHECK_OUT = "attendance.staff_check_out"
