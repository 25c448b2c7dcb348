"""Well-formed fictitious identifiers for demo and benchmark data (never real people or units).

Resident ID numbers come from `core.idnumbers.make_ric` (GB 11643, check digit by python-stdnum); the
area codes below are ones python-stdnum accepts for every birth year from 1930 to 2025, so any birth
date gives a number that `stdnum.cn.ric.validate` accepts. The sequence part keeps the two data sets
apart: seed_demo uses 001–499 and gen_scale 500–999, so their ID numbers can never collide.
"""

from stdnum.cn import uscc

AREA_CODES = (  # noqa: SIM905
    "430121 110101 110109 120106 140122 152201 152522 152528 152923 210521 210922 230722 310107 340421 "
    "422825 429021 433125 510421 513225 513232 513326 513332 513338 513427 513433 520203 522328 522627 "
    "522633 522723 522730 532324 532501 532529 532624 532823 532927 533122 533422 540127 542526 610328 "
    "620123 622926 623025 632223 632523 632624 632725 640121 652325 652822 652828 652927 653101 653126 "
    "653221 653227"
).split()

DEMO_SEQ = range(1, 500)
SCALE_SEQ_BASE = 500  # gen_scale uses 500–999


_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(serial: int) -> str:
    """A 9-character organization code (GB 11714): eight digits and their check character."""
    digits = f"{serial % 10**8:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, _ORG_CODE_WEIGHTS, strict=True)) % 11
    return digits + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(prefix: str, area: str, serial: int) -> str:
    """Unified social credit code (GB 32100): authority and type, area, organization code, check."""
    body = f"{prefix}{area}{_org_code(serial)}"
    return body + uscc.calc_check_digit(body)
