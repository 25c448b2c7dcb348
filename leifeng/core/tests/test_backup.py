"""Backup → restore round trip: what was there comes back, ID numbers still decrypt."""

import zipfile

import pytest
from django.core import management
from django.core.management.base import CommandError
from django.db import connection

from leifeng.accounts.models import RoleAssignment, User
from leifeng.core import crypto
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer
from leifeng.teams.models import Team, TeamMembership
from leifeng.testing import VolunteerFactory


def _flush():
    management.call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_round_trip_keeps_everything(tmp_path, tree, owner, client):
    v = VolunteerFactory(org=tree.st_a1)
    client.force_login(owner)  # a login session: not part of the backup
    full_id = crypto.decrypt(v.id_number_encrypted)
    before = {
        "orgs": sorted(Org.objects.values_list("path", "name")),
        "users": sorted(User.objects.values_list("username", flat=True)),
        "roles": RoleAssignment.objects.count(),
        "volunteers": sorted(Volunteer.objects.values_list("number", "name")),
        "teams": Team.objects.count(),
        "memberships": TeamMembership.objects.count(),
    }
    archive = tmp_path / "backup.zip"
    management.call_command("backup", str(archive), verbosity=0)
    assert archive.exists() and archive.stat().st_size > 0
    assert archive.stat().st_mode & 0o777 == 0o600  # ID numbers, phones: only the operator reads it
    with zipfile.ZipFile(archive) as z:
        assert '"accounts.session"' not in z.read("data.json").decode()

    with pytest.raises(CommandError, match="not empty"):
        management.call_command("restore", str(archive), verbosity=0)

    _flush()
    assert not Org.objects.exists()
    management.call_command("restore", str(archive), verbosity=0)
    after = {
        "orgs": sorted(Org.objects.values_list("path", "name")),
        "users": sorted(User.objects.values_list("username", flat=True)),
        "roles": RoleAssignment.objects.count(),
        "volunteers": sorted(Volunteer.objects.values_list("number", "name")),
        "teams": Team.objects.count(),
        "memberships": TeamMembership.objects.count(),
    }
    assert after == before
    restored = Volunteer.objects.get(number=v.number)
    assert crypto.decrypt(restored.id_number_encrypted) == full_id  # ciphertext restored, same key decrypts
    if connection.vendor == "postgresql":  # sequences follow the restored ids: new rows do not collide
        VolunteerFactory(org=Org.objects.get(path=tree.st_a1.path))


@pytest.mark.django_db
def test_backup_never_overwrites_and_restore_refuses_garbage(tmp_path):
    existing = tmp_path / "old.zip"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists"):
        management.call_command("backup", str(existing), verbosity=0)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(CommandError, match="not a backup archive"):
        management.call_command("restore", str(existing), verbosity=0)
    with pytest.raises(CommandError, match="no such file"):
        management.call_command("restore", str(tmp_path / "missing.zip"), verbosity=0)
