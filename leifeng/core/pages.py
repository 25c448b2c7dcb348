"""What every page does with a service's refusal, written once (it was copied into 5–7 view modules).

    if attempt(request, lambda: services.team_update(actor=request.user, ...), _("Saved.")):
        return redirect(...)

- `NotFound` (missing *or* out of scope) becomes the page's 404, `PermissionDenied` its 403;
- any other refusal (a `ServiceError` or a `ValidationError`) is shown as an error message;
- success shows the success message. The result keeps what the service returned (`result.value`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from leifeng.core.errors import NotFound, PermissionDenied, ServiceError, field_errors


def raise_for_scope(exc: Exception) -> None:
    """Turn a service's 'not found / not allowed' into the page's 404 / 403; anything else returns."""
    if isinstance(exc, NotFound):
        raise Http404 from exc
    if isinstance(exc, PermissionDenied):
        raise DjangoPermissionDenied(exc.message) from exc


def message_of(exc: Exception) -> str:
    """The refusal in words a person reads (every field's messages, for a ValidationError)."""
    if isinstance(exc, ServiceError):
        return exc.message
    return " ".join(m for ms in field_errors(exc).values() for m in ms)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    value: Any = None
    error: Exception | None = None

    def __bool__(self) -> bool:
        return self.ok


def attempt(request: HttpRequest, call: Callable[[], Any], success: str | None) -> Attempt:
    """Run `call`; show `success` (if any) or the refusal as a message. True-ish when the call succeeded."""
    try:
        value = call()
    except (ServiceError, ValidationError) as exc:
        raise_for_scope(exc)
        messages.error(request, message_of(exc))
        return Attempt(False, error=exc)
    if success:
        messages.success(request, success)
    return Attempt(True, value)
