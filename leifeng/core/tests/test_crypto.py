"""Field encryption keys: several keys decrypt, the first encrypts; a wrong key is a clear refusal, not a 500."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from leifeng.core import crypto


@pytest.fixture
def keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def use(*ks):
        settings.FIELD_ENCRYPTION_KEY = ",".join(ks)
        crypto.reset()

    yield old, new, use
    crypto.reset()


def test_old_values_open_after_a_new_key_is_put_first(keys):
    old, new, use = keys
    use(old)
    token = crypto.encrypt("110105199001010021")
    use(new, old)
    assert crypto.decrypt(token) == "110105199001010021"
    rotated = crypto.rotate(token)
    use(new)  # the old key dropped: only rotated values still open
    assert crypto.decrypt(rotated) == "110105199001010021"
    with pytest.raises(crypto.DecryptionFailed) as exc:
        crypto.decrypt(token)
    assert exc.value.code == "encryption_key"
    assert exc.value.status == 503
    assert "FIELD_ENCRYPTION_KEY" in exc.value.message


def test_a_malformed_key_names_itself(keys):
    old, _new, use = keys
    use(old, "not-a-key")
    with pytest.raises(ImproperlyConfigured, match="key 2"):
        crypto.encrypt("x")


def test_rotate_command_re_encrypts_every_registered_column(keys, tree):
    from django.core import management

    from leifeng.core.models import AuditEvent
    from leifeng.people.models import Volunteer
    from leifeng.testing import VolunteerFactory

    old, new, use = keys
    use(old)
    v = VolunteerFactory(org=tree.st_a1)
    full = crypto.decrypt(v.id_number_encrypted)
    use(new, old)
    management.call_command("rotate_field_key", verbosity=0)
    use(new)
    assert crypto.decrypt(Volunteer.objects.get(pk=v.pk).id_number_encrypted) == full
    event = AuditEvent.objects.get(action="encryption.rotate")
    assert event.changes == {"rotated": {"people.Volunteer.id_number_encrypted": 1}}


def test_rotate_command_changes_nothing_when_a_value_does_not_open(keys, tree):
    from django.core import management
    from django.core.management.base import CommandError

    from leifeng.people.models import Volunteer
    from leifeng.testing import VolunteerFactory

    old, new, use = keys
    use(old)
    a = VolunteerFactory(org=tree.st_a1)
    use(new)  # the old key is already gone: a's value cannot be opened
    b = VolunteerFactory(org=tree.st_a1)
    before = dict(Volunteer.objects.values_list("pk", "id_number_encrypted"))
    with pytest.raises(CommandError, match="Nothing was changed"):
        management.call_command("rotate_field_key", verbosity=0)
    assert dict(Volunteer.objects.values_list("pk", "id_number_encrypted")) == before
    assert {a.pk, b.pk} <= set(before)
