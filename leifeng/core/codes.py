"""Core's own audit actions (the error codes any app may raise are `core.errors.ErrorCode`)."""

from enum import StrEnum


class AuditAction(StrEnum):
    FIELD_KEY_ROTATE = "encryption.rotate"  # manage.py rotate_field_key
