"""Core's own audit actions (the error codes any app may raise are `core.errors.ErrorCode`)."""

from enum import StrEnum


class AuditAction(StrEnum):
    # What the Django admin records; the model it changed is the event's object_type (accounts.user, …).
    ADMIN_ADD = "admin_add"
    ADMIN_CHANGE = "admin_change"
    ADMIN_DELETE = "admin_delete"
    FIELD_KEY_ROTATE = "encryption.rotate"  # manage.py rotate_field_key
