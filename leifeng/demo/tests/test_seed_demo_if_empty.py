"""seed_demo --if-empty on an empty database, and the demo_accounts table (kept apart from test_seed_demo.py, whose
tests share one demo built once)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leifeng.accounts.models import User
from leifeng.demo import content as C
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer


def test_if_empty_keeps_existing_data(db):
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    counts = (Org.objects.count(), Volunteer.objects.count(), User.objects.count())
    call_command("seed_demo", "--if-empty", stdout=out)
    assert (Org.objects.count(), Volunteer.objects.count(), User.objects.count()) == counts
    assert "跳过" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=out)
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    table = out.getvalue()
    for username, role, _node, _name, phone, _profile in C.ACCOUNTS:
        assert username in table and phone in table and str(role) in table
    assert C.DEMO_PASSWORD in table
