from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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


class AuditFilterForm(forms.Form):
    """Filters of the audit page; an invalid date is reported and ignored, never a crash."""

    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    object_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        from leifeng.core.selectors import audited_types

        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("All types")), *audited_types()]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self):
        from leifeng.core.selectors import AuditFilters

        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return AuditFilters(**{k: v for k, v in data.items() if v not in (None, "")})
