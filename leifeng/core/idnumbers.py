"""Identity documents (DESIGN §4 rule 2): validated with python-stdnum, never by hand."""

from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exc
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.util import isdigits


class IdType(models.TextChoices):
    RIC = "ric", _("Resident ID card")
    HK_MACAO = "hkmo", _("Mainland travel permit for HK/Macao residents")
    TAIWAN = "tw", _("Mainland travel permit for Taiwan residents")
    PASSPORT = "passport", _("Passport")
    FOREIGN_PR = "fpr", _("Foreign permanent resident ID card")


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


class InvalidId(ValueError):
    pass


@dataclass(frozen=True)
class ParsedId:
    id_type: str
    number: str  # canonical form
    birth_date: date | None
    gender: str | None


def parse_id(id_type: str, raw: str) -> ParsedId:
    """Validate and canonicalise; derive birth date and gender where the document carries them."""
    value = (raw or "").strip()
    if not value:
        raise InvalidId(_("ID number is required."))
    if id_type == IdType.RIC:
        try:
            number = _validate_ric(value)
        except stdnum_exc.InvalidChecksum:
            raise InvalidId(_("ID number check digit is wrong.")) from None
        except stdnum_exc.InvalidLength:
            raise InvalidId(_("ID number must have 18 characters.")) from None
        except stdnum_exc.ValidationError:
            raise InvalidId(_("ID number is not a valid resident ID number.")) from None
        number = number.upper()
        gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
        return ParsedId(id_type, number, ric.get_birth_date(number), gender)
    if id_type not in IdType.values:
        raise InvalidId(_("Unknown ID type."))
    number = "".join(value.split()).upper()
    if not (5 <= len(number) <= 20) or not number.isalnum():
        raise InvalidId(_("ID number must be 5–20 letters or digits."))
    return ParsedId(id_type, number, None, None)


def _region_known(code: str) -> bool:
    """Did the six-digit administrative division code ever exist (python-stdnum's table of them)?"""
    return any(props.get("county") for _part, props in numdb.get("cn/loc").info(code))


def _validate_ric(value: str) -> str:
    """`stdnum.cn.ric.validate` without one of its checks: stdnum also requires the region code to have existed
    in the person's birth year, but a number carries the code of where and when it was *issued* (a person born
    in 1988 in Pudong has 310115…, a code created in 1992), so that check refuses genuine numbers. Length,
    digits, check digit, a real birth date and a region code that exists (or existed) are still required."""
    number = ric.compact(value)
    if len(number) != 18:
        raise stdnum_exc.InvalidLength()
    if not isdigits(number[:-1]):
        raise stdnum_exc.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise stdnum_exc.InvalidChecksum()
    born = ric.get_birth_date(number)
    if born.year < 1850 or born > date.today():
        raise stdnum_exc.InvalidComponent()
    if not _region_known(number[:6]):
        raise stdnum_exc.InvalidComponent()
    return number


def mask_id(number: str) -> str:
    """110105********002X: enough to recognise, not enough to misuse."""
    if len(number) >= 15:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    if len(number) > 4:
        return number[:1] + "*" * (len(number) - 3) + number[-2:]
    return "*" * len(number)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def validate_uscc(raw: str) -> str:
    """Unified social credit code (GB 32100) → canonical form, or InvalidId."""
    try:
        return uscc.validate((raw or "").strip()).upper()
    except stdnum_exc.ValidationError:
        raise InvalidId(_("Unified social credit code is not valid.")) from None


PHONE_HELP = _("11-digit mainland mobile number")


def normalize_phone(raw: str) -> str:
    """Mainland mobile numbers: 11 digits starting with 1; '+86', spaces and dashes tolerated."""
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1") or digits[1] not in "3456789":
        raise InvalidId(_("Phone number must be an 11-digit mainland mobile number."))
    return digits


def make_ric(area: str, birth: date, seq: int) -> str:
    """A well-formed resident ID number (for demo and test data; fictitious people only)."""
    body = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects all 18 characters and ignores the last
