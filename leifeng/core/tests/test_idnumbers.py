"""Resident ID numbers (DESIGN §4 rule 2): validated with python-stdnum's pieces, genuine numbers accepted."""

from datetime import date

import pytest

from leifeng.core.idnumbers import Gender, IdType, InvalidId, make_ric, parse_id


def test_region_code_created_after_the_birth_year_is_accepted():
    # 310115 (浦东新区) exists since 1992; someone born in 1988 and issued a card there carries it.
    number = make_ric("310115", date(1988, 3, 5), 123)
    parsed = parse_id(IdType.RIC, number)
    assert parsed.number == number
    assert parsed.birth_date == date(1988, 3, 5)
    assert parsed.gender == Gender.MALE  # 123: odd


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (make_ric("999999", date(1990, 1, 1), 1), "not a valid resident ID"),  # no such region, ever
        (make_ric("110105", date(1990, 1, 1), 2)[:-1] + "0", "check digit"),
        ("11010519900101002", "18 characters"),
    ],
)
def test_what_is_still_refused(number, words, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(InvalidId, match=words):
        parse_id(IdType.RIC, number)


def test_a_birth_date_in_the_future_is_refused():
    number = make_ric("110105", date(date.today().year + 1, 1, 1), 3)
    with pytest.raises(InvalidId):
        parse_id(IdType.RIC, number)


def test_an_impossible_date_is_refused():
    body = "11010519900230" + "123"
    from stdnum.cn import ric

    with pytest.raises(InvalidId):
        parse_id(IdType.RIC, body + ric.calc_check_digit(body + "0"))
