"""core.transitions: the one helper every status table goes through."""

import pytest
from django.db import models
from django.utils import translation

from leifeng.core.errors import Conflict, ErrorCode
from leifeng.core.transitions import Transitions


class Light(models.TextChoices):
    RED = "red", "Red"
    GREEN = "green", "Green"
    AMBER = "amber", "Amber"


TABLE = Transitions(Light, {Light.RED: {Light.GREEN}, Light.GREEN: {Light.AMBER}, Light.AMBER: {Light.RED}})


class Thing:
    status = Light.RED


def test_move_sets_the_status_and_returns_the_old_one():
    t = Thing()
    assert TABLE.move(t, Light.GREEN) == Light.RED
    assert t.status == Light.GREEN


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing():
    t = Thing()
    with translation.override("en"), pytest.raises(Conflict) as exc:
        TABLE.move(t, Light.AMBER)
    assert t.status == Light.RED
    assert exc.value.code == ErrorCode.INVALID_TRANSITION
    assert exc.value.status == 409
    assert "“Red” cannot become “Amber”" in exc.value.message


def test_message_is_translated():
    with translation.override("zh-hans"), pytest.raises(Conflict) as exc:
        TABLE.check(Light.RED, Light.AMBER)
    assert "不能改为" in exc.value.message


def test_own_message_and_code():
    from enum import StrEnum

    class E(StrEnum):
        BAD_STATUS = "bad_status"

    table = Transitions(Light, {Light.RED: {Light.GREEN}}, message="%(from)s ↛ %(to)s", code=E.BAD_STATUS)
    with pytest.raises(Conflict) as exc:
        table.check(Light.GREEN, Light.RED)  # a state the table does not list allows nothing
    assert exc.value.code == "bad_status"
    assert exc.value.message == "Green ↛ Red"


def test_sources_for_a_conditional_update():
    assert TABLE.sources(Light.RED) == {Light.AMBER}
    assert TABLE[Light.RED] == {Light.GREEN}
    assert TABLE["nonsense"] == frozenset()


def test_a_table_naming_an_unknown_status_fails_at_import():
    with pytest.raises(ValueError, match="no such status"):
        Transitions(Light, {Light.RED: {"blue"}})
