"""Personal data at rest (DESIGN §4 rule 3): encrypted with Fernet, found by a keyed blind index.

The keys come from FIELD_ENCRYPTION_KEY / BLIND_INDEX_KEY; when unset they are derived from
SECRET_KEY with HKDF so a laptop install works out of the box. Production sets both explicitly.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"leifeng", info=info).derive(settings.SECRET_KEY.encode())


@cache
def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY or base64.urlsafe_b64encode(_derive(b"field-encryption")).decode()
    return Fernet(key)


@cache
def _index_key() -> bytes:
    return settings.BLIND_INDEX_KEY.encode() if settings.BLIND_INDEX_KEY else _derive(b"blind-index")


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def blind_index(kind: str, value: str) -> str:
    """Deterministic keyed hash: equal inputs match, the value itself cannot be recovered."""
    msg = f"{kind}:{value}".encode()
    return hmac.new(_index_key(), msg, hashlib.sha256).hexdigest()
