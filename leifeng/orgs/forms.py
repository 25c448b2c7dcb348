"""Page forms. They only parse input: the services validate and decide (shown with apply_errors)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from leifeng.orgs.models import (
    LeadingGroup,
    LeadingGroupMember,
    Org,
    OrgLevel,
    Position,
    Unit,
    UnitKind,
)

CHOOSE = _("Choose one")


def model_field(model, name: str, **kwargs) -> forms.Field:
    """The model's own form field (label, length, choices, help text), so pages and admin agree."""
    field = model._meta.get_field(name).formfield(**kwargs)
    if isinstance(field, forms.ChoiceField):  # our own blank label: Django 6.1's is not translated yet
        field.choices = [("", CHOOSE), *[(v, label) for v, label in field.choices if v != ""]]
    return field


class OrgChoiceField(forms.ModelChoiceField):
    """Nodes indented by depth, with their level: readable as a tree inside a select box."""

    def label_from_instance(self, obj: Org) -> str:
        return f"{'　' * (obj.depth - 1)}{obj.name}（{obj.get_level_display()}）"


class OrgForm(forms.Form):
    name = model_field(Org, "name")
    level = model_field(Org, "level")
    division_code = model_field(Org, "division_code", max_length=20)
    address = model_field(Org, "address")
    contact_name = model_field(Org, "contact_name")
    contact_phone = model_field(Org, "contact_phone", widget=forms.TextInput(attrs={"type": "tel"}))

    def __init__(self, *args, levels: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if levels is not None:
            self.fields["level"].choices = [(v, label) for v, label in OrgLevel.choices if v in levels]


class OrgMoveForm(forms.Form):
    parent = OrgChoiceField(label=_("New parent node"), queryset=Org.objects.none(), empty_label=CHOOSE)

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        if targets is not None:
            self.fields["parent"].queryset = targets


class UnitParentField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{obj.org.name}）"


class UnitForm(forms.Form):
    org = OrgChoiceField(label=_("Node"), queryset=Org.objects.none(), empty_label=CHOOSE)
    name = model_field(Unit, "name")
    kind = model_field(Unit, "kind")
    parent = UnitParentField(
        label=_("parent unit"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("None: a unit of its own"),
        help_text=_("Only for a sub-unit, e.g. a class (1001班) inside its school"),
    )
    credit_code = model_field(
        Unit,
        "credit_code",
        max_length=30,
        help_text=_("18 characters (GB 32100); leave empty for classes and groups without one"),
    )
    address = model_field(Unit, "address")
    contact_name = model_field(Unit, "contact_name")
    contact_phone = model_field(Unit, "contact_phone", widget=forms.TextInput(attrs={"type": "tel"}))

    def __init__(self, *args, orgs=None, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        if orgs is not None:
            self.fields["org"].queryset = orgs
        if parents is not None:
            self.fields["parent"].queryset = parents


class PositionForm(forms.Form):
    title = model_field(Position, "title")
    person_name = model_field(Position, "person_name")
    phone = model_field(Position, "phone", widget=forms.TextInput(attrs={"type": "tel"}))


class LeadingGroupForm(forms.Form):
    name = model_field(LeadingGroup, "name")


class LeadingGroupMemberForm(forms.Form):
    role = model_field(LeadingGroupMember, "role")
    person_name = model_field(LeadingGroupMember, "person_name")
    job_title = model_field(LeadingGroupMember, "job_title")


class UnitFilterForm(forms.Form):
    """The search bar of the unit list (GET): never invalid, unknown values are dropped."""

    q = forms.CharField(label=_("Search"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *UnitKind.choices])
    org = OrgChoiceField(
        label=_("Node"),
        required=False,
        queryset=Org.objects.none(),
        empty_label=_("All nodes"),
        widget=forms.Select(attrs={"style": "max-width:100%"}),  # long indented names must not widen the page
    )

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if orgs is not None:
            self.fields["org"].queryset = orgs
