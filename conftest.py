"""Fixtures every test may use: the org tree and the three personas (see leifeng/testing/__init__.py)."""

import pytest

from leifeng import testing
from leifeng.accounts.models import Role


@pytest.fixture
def tree(db):
    return testing.build_tree()


@pytest.fixture
def owner(tree):
    return testing.make_user("owner", role=Role.ORG_ADMIN, org=tree.st_a1, display_name="站长")


@pytest.fixture
def colleague(tree):
    return testing.make_user("colleague", role=Role.ORG_STAFF, org=tree.st_a1, display_name="专管员")


@pytest.fixture
def outsider(tree):
    return testing.make_user("outsider", role=Role.ORG_ADMIN, org=tree.st_b1, display_name="外站站长")


@pytest.fixture
def center_admin(tree):
    return testing.make_user("center", role=Role.ORG_ADMIN, org=tree.center, display_name="中心主任")


@pytest.fixture
def assessor(tree):
    return testing.make_user("assessor", role=Role.ASSESSOR, org=tree.sub_a, display_name="督查员")


@pytest.fixture
def client_for(client):
    """client_for(user) → a test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login
