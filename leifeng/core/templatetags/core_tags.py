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


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(field, name: str) -> str:
    return str(getattr(field, "verbose_name", name))


def _choice(field, value):
    """A stored choice ('team_leader') shown by its label (队长)."""
    choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else {}
    if isinstance(value, list):
        return [choices.get(v, v) if isinstance(v, str) else v for v in value]
    return choices.get(value, value) if isinstance(value, str) else value


@register.filter
def change_rows(event) -> list[tuple[str, str | None, str]]:
    """An audit event's {field: [old, new]} as (field label, old, new) rows; old is None when not a pair."""
    try:
        model = apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        model = None
    rows = []
    for name, value in (event.changes or {}).items():
        field = _field(model, name)
        if isinstance(value, list) and len(value) == 2:
            rows.append((_label(field, name), _show(_choice(field, value[0])), _show(_choice(field, value[1]))))
        else:
            rows.append((_label(field, name), None, _show(_choice(field, value))))
    return rows


@register.filter
def type_label(object_type: str) -> str:
    """'accounts.user' → the model's readable name (账号)."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
