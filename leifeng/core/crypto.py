"""Personal data at rest (DESIGN §4 rule 3): encrypted with Fernet, found by a keyed blind index.

The keys come from FIELD_ENCRYPTION_KEY / BLIND_INDEX_KEY; when unset they are derived from
SECRET_KEY with HKDF so a laptop install works out of the box. Production sets both explicitly.

Key rotation (MultiFernet): FIELD_ENCRYPTION_KEY may list several keys separated by commas, newest first.
New values are encrypted with the first; every listed key decrypts. `manage.py rotate_field_key` then
re-encrypts every registered column with the first key, after which the old key can be dropped.
Apps register their encrypted columns with `register("people.Volunteer", "id_number_encrypted")` in their
AppConfig.ready, so core knows them without importing any app.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from leifeng.core.errors import ErrorCode, ServiceError

_ENCRYPTED: list[tuple[str, str]] = []


class DecryptionFailed(ServiceError):
    """A stored value does not open with any configured key: the operator's configuration, not the user's input."""

    status = 503

    def __init__(self):
        super().__init__(
            _(
                "Encrypted personal data cannot be read with the configured keys. "
                "The operator must check FIELD_ENCRYPTION_KEY (see the operations guide, key rotation)."
            ),
            code=ErrorCode.ENCRYPTION_KEY,
        )


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"leifeng", info=info).derive(settings.SECRET_KEY.encode())


def keys() -> list[str]:
    """The configured field keys, newest first (the derived one when none is set)."""
    configured = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    return configured or [base64.urlsafe_b64encode(_derive(b"field-encryption")).decode()]


@cache
def _fernet() -> MultiFernet:
    fernets = []
    for i, key in enumerate(keys(), 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY: key {i} is not a Fernet key (32 bytes, url-safe base64)."
            ) from None
    return MultiFernet(fernets)


def reset() -> None:
    """Forget the keys read so far (after the settings change: tests, the rotation command)."""
    _fernet.cache_clear()
    _index_key.cache_clear()


@cache
def _index_key() -> bytes:
    return settings.BLIND_INDEX_KEY.encode() if settings.BLIND_INDEX_KEY else _derive(b"blind-index")


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed() from None


def rotate(token: str) -> str:
    """The same value encrypted with the newest key (MultiFernet.rotate); DecryptionFailed if no key opens it."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed() from None


def register(model_label: str, field: str) -> None:
    """Declare an encrypted column (called from an app's AppConfig.ready)."""
    if (model_label, field) not in _ENCRYPTED:
        _ENCRYPTED.append((model_label, field))


def encrypted_fields() -> list[tuple[str, str]]:
    return list(_ENCRYPTED)


def blind_index(kind: str, value: str) -> str:
    """Deterministic keyed hash: equal inputs match, the value itself cannot be recovered."""
    msg = f"{kind}:{value}".encode()
    return hmac.new(_index_key(), msg, hashlib.sha256).hexdigest()
