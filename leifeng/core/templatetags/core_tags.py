from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs) -> str:
    """The current query string with some parameters replaced (keeps filters while paging)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        params[key] = value
    return params.urlencode()


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


def _label(model, name: str) -> str:
    if model is not None:
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            pass
    return name


@register.filter
def change_rows(event) -> list[tuple[str, str | None, str]]:
    """An audit event's {field: [old, new]} as (field label, old, new) rows; old is None when not a pair."""
    try:
        model = apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        model = None
    rows = []
    for name, value in (event.changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            rows.append((_label(model, name), _show(value[0]), _show(value[1])))
        else:
            rows.append((_label(model, name), None, _show(value)))
    return rows


@register.filter
def type_label(object_type: str) -> str:
    """'accounts.user' → the model's readable name (账号)."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
