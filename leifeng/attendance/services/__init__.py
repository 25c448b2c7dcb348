"""Check-in and check-out (签到 / 签退): kiosk QR, roll call, duration code, auto-close.

Rules:
  * the kiosk QR encodes a URL with a token signed by `signing.TimestampSigner` salted with the
    activity's `kiosk_secret`; it is refused after KIOSK_TOKEN_MAX_AGE seconds (a photo is useless
    later) and when tampered with; regenerating the secret voids every code shown so far;
  * every check-in/out carries an idempotency key: the key is claimed first, inside the same
    transaction (INSERT … ON CONFLICT DO NOTHING). A retry — even a concurrent one — finds the key taken
    and answers with the first request's result, never a second record;
  * a volunteer checks in to a post they are confirmed for, from CHECKIN_EARLY before its start to its
    end; scanning again checks out; the sign-up row is locked, so one person's requests run one at a time;
  * the optional geofence refuses positions farther than `activity.geofence_m` (haversine);
  * closing a presence writes the VERIFIED service record (hours.services.record_presence);
  * forgotten check-outs are closed at the post's end and flagged (`auto_closed`); confirmed people who
    never came are marked no-shows (`close_attendance`, run by a task and a command).

The volunteer's own check-in/out is not written to the audit trail: the Attendance row and its
CheckRequest are that trail (who, when, how). Staff actions (roll call, codes, auto-close) are audited.

The package, by section: common.py (constants, idempotency key, opening/closing a presence), kiosk.py (QR
tokens, geofence, kiosk reset), checkin.py (the scan), roll_call.py (点名), duration_codes.py (时长码),
closing.py (auto-close), staff.py (代签到 / 代签退). Callers import from here; `attendance/fast.py` also uses
the private names re-exported below (its SQL and rules are the scan's).
"""

from leifeng.attendance.selectors import activity_for_kiosk
from leifeng.attendance.services.checkin import _SLOTS_SQL, _dt, _pick_post, _Slot, check
from leifeng.attendance.services.closing import close_attendance
from leifeng.attendance.services.common import (
    CHECKIN_EARLY,
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_VALID_MINUTES,
    KIOSK_ROTATE_SECONDS,
    KIOSK_TOKEN_MAX_AGE,
    CheckResult,
    _claim_key,
    _clean_key,
    _close,
    _finish_key,
    _open,
    _post_for_run,
    _replay,
)
from leifeng.attendance.services.duration_codes import duration_code_create, duration_code_enter
from leifeng.attendance.services.kiosk import (
    check_geofence,
    clean_position,
    distance_m,
    kiosk_reset,
    kiosk_token,
    token_activity_id,
    verify_token,
)
from leifeng.attendance.services.roll_call import roll_call_mark
from leifeng.attendance.services.staff import STAFF_AHEAD, STAFF_BACKDATE_FREE, staff_check

__all__ = [
    "CHECKIN_EARLY",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODE_VALID_MINUTES",
    "KIOSK_ROTATE_SECONDS",
    "KIOSK_TOKEN_MAX_AGE",
    "STAFF_AHEAD",
    "STAFF_BACKDATE_FREE",
    "_SLOTS_SQL",
    "CheckResult",
    "_Slot",
    "_claim_key",
    "_clean_key",
    "_close",
    "_dt",
    "_finish_key",
    "_open",
    "_pick_post",
    "_post_for_run",
    "_replay",
    "activity_for_kiosk",
    "check",
    "check_geofence",
    "clean_position",
    "close_attendance",
    "distance_m",
    "duration_code_create",
    "duration_code_enter",
    "kiosk_reset",
    "kiosk_token",
    "roll_call_mark",
    "staff_check",
    "token_activity_id",
    "verify_token",
]
