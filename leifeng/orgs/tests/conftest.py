"""Fixtures of the orgs tests on top of the shared tree and personas (see leifeng/testing/__init__.py)."""

import pytest
from stdnum.cn import uscc

from leifeng import testing
from leifeng.accounts.models import Role


@pytest.fixture
def platform_admin(tree):
    return testing.make_user("operator", role=Role.PLATFORM_ADMIN, org=tree.center, display_name="平台管理员")


def make_uscc(n: int) -> str:
    """A well-formed unified social credit code (institution registered in 110105), for tests only."""
    body = f"12110105{n:09d}"
    return body + uscc.calc_check_digit(body)
