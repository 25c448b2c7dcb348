"""Forms parse input; the rules live in accounts.services (errors come back via core.forms.apply_errors)."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from leifeng.accounts import selectors
from leifeng.accounts.models import Role
from leifeng.core.idnumbers import PHONE_HELP


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Mobile number or user name"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={"type": "search"}))
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices])
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))],
    )


class _OrgRoleMixin(forms.Form):
    """Role and node choices limited to what the actor may grant."""

    role = forms.ChoiceField(label=_("Role"))
    org = forms.ChoiceField(label=_("Organization"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = selectors.grantable_roles(actor=actor)
        orgs = list(selectors.grantable_orgs(actor=actor))
        top = min((o.depth for o in orgs), default=1)
        self.fields["org"].choices = [(o.pk, "\u3000" * (o.depth - top) + o.name) for o in orgs]  # tree indent


class UserCreateForm(_OrgRoleMixin):
    username = forms.CharField(label=_("User name"), max_length=150)
    display_name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False, help_text=PHONE_HELP)
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits. Tell it to the person in private."),
    )
    field_order = ["username", "display_name", "phone", "password", "role", "org"]


class UserEditForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False, help_text=PHONE_HELP)
    email = forms.EmailField(label=_("E-mail"), required=False)


class RoleGrantForm(_OrgRoleMixin):
    pass


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("New password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100, help_text=_("Which app or script will use it, e.g. 'check-in kiosk'.")
    )
