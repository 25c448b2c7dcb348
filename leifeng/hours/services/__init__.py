"""Writes to the service-record ledger (DESIGN §4 rules 8–11). Append-only: there is no update or delete.

- ledger.py: the one way in (`service_record_add`, `record_presence`): overlap removed, each local day capped;
- corrections.py: a reversing entry plus a new one (`record_correct`), volunteers' correction requests;
- claims.py: back-fill claims (补录), approved under four eyes.

Callers import from here (`from leifeng.hours import services`); the names below are the package's API.
"""

from leifeng.hours.models import ServiceRecord
from leifeng.hours.services.claims import claim_create, claim_decide
from leifeng.hours.services.corrections import correction_answer, correction_request, record_correct
from leifeng.hours.services.ledger import (
    RECORD_FIELDS,
    cap_minutes,
    day_bounds,
    day_segments,
    local_date,
    record_presence,
    service_record_add,
)

__all__ = [
    "RECORD_FIELDS",
    "ServiceRecord",
    "cap_minutes",
    "claim_create",
    "claim_decide",
    "correction_answer",
    "correction_request",
    "day_bounds",
    "day_segments",
    "local_date",
    "record_correct",
    "record_presence",
    "service_record_add",
]
