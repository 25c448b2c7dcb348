"""Star levels (星级志愿者, DESIGN §4 rule 12): cumulative VERIFIED hours against regional thresholds.

Thresholds come from `rules.rule(station, "star_thresholds_h")` (default 100 / 300 / 600 / 1000 / 1500 h,
Beijing uses 100 / 200 / 500 / 800 / 1000), read at the volunteer's station so a region's setting holds.
"""

from decimal import ROUND_DOWN, Decimal

from leifeng.core import rules
from leifeng.hours import selectors
from leifeng.hours.models import RecordKind


def thresholds(volunteer) -> list[int]:
    return [int(t) for t in rules.rule(volunteer.org, "star_thresholds_h")]


def level_for(hours: Decimal, steps: list[int]) -> int:
    return sum(1 for t in steps if hours >= t)


def star_level(volunteer) -> tuple[int, Decimal, int | None]:
    """(level 0–5, verified hours to one decimal, the next threshold in hours or None at the top)."""
    minutes = selectors.totals(volunteer=volunteer, kind=RecordKind.VERIFIED)
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    steps = thresholds(volunteer)
    level = level_for(hours, steps)
    return level, hours, (steps[level] if level < len(steps) else None)


def progress(volunteer) -> dict:
    """What the 'my hours' page shows: level, hours, next threshold and percent of the way there."""
    level, hours, nxt = star_level(volunteer)
    steps = thresholds(volunteer)
    prev = steps[level - 1] if level > 0 else 0
    percent = 100 if nxt is None or nxt <= prev else int((hours - prev) * 100 / (nxt - prev))
    return {
        "level": level,
        "hours": hours,
        "next": nxt,
        "to_next": (nxt - hours) if nxt is not None else None,
        "percent": max(0, min(100, percent)),
        "stars": "★" * level + "☆" * (len(steps) - level),
    }
