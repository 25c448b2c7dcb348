"""Orders fixtures: a practice point under 东关社区站 (for pushing down), a team with its leader."""

import pytest

from leifeng import testing
from leifeng.orders.tests.factories import leader_with_team
from leifeng.orgs.models import OrgLevel


@pytest.fixture
def point(tree):
    return testing.add_child(tree.st_a1, "东关3号楼实践点", OrgLevel.POINT)


@pytest.fixture
def crew(tree):
    """(leader user, team) at 东关社区站, category elderly care."""
    return leader_with_team(tree)
