from django import forms
from django.utils.translation import gettext_lazy as _

from leifeng.accounts.models import Role
from leifeng.notifications.services import RELAY_ROLES_DEFAULT


def relay_role_choices() -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if value != Role.PLATFORM_ADMIN]


class RelayForm(forms.Form):
    org = forms.ModelChoiceField(label=_("Send to the subtree of"), queryset=None, empty_label=None)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=relay_role_choices, widget=forms.CheckboxSelectMultiple, initial=RELAY_ROLES_DEFAULT
    )
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=2000)

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
