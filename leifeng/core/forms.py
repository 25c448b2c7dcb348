from django import forms
from django.core.exceptions import ValidationError

from leifeng.core.errors import ServiceError


def apply_errors(form: forms.Form, exc: ValidationError | ServiceError) -> None:
    """Show a service's refusal on the form, next to the field it names when there is one."""
    if isinstance(exc, ServiceError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for err in errors:
                for message in err.messages:
                    form.add_error(name if name in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
