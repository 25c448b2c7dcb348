"""Demo activities on top of the county demo (called by leifeng.demo.seed.seed_demo inside its transaction)."""

from datetime import date, datetime


def build(demo, *, today: date, now: datetime) -> dict[str, int]:
    """Create the activities demo; return counts for the command's summary."""
    return {}
