"""Forms of the order pages: they only parse; the services decide."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.orders.models import OrderChannel
from leifeng.teams.models import TeamCategory


class OrderForm(forms.Form):
    """The resident's order (and, with `channel` and `org`, staff entering one on somebody's behalf)."""

    menu_item = forms.TypedChoiceField(
        label=pgettext_lazy("order", "Service"), required=False, coerce=int, empty_value=None
    )
    description = forms.CharField(
        label=_("What do you need?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    resident_name = forms.CharField(label=_("Your name"), max_length=50)
    resident_phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    latitude = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"id": "id_latitude"}))
    longitude = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"id": "id_longitude"}))
    wanted_from = forms.DateTimeField(
        label=_("Wanted time: from (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    wanted_until = forms.DateTimeField(
        label=_("Wanted time: until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"), required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args, menu=(), staff_orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["menu_item"].choices = [("", _("— something else (describe below) —"))] + [
            (m.pk, f"{m.title} · {m.org.name}") for m in menu
        ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        if staff_orgs is not None:
            self.fields["org"] = forms.ModelChoiceField(label=_("Station"), queryset=staff_orgs)
            self.fields["channel"] = forms.ChoiceField(label=_("Channel"), choices=OrderChannel.choices)
            self.fields["resident_name"].label = _("Resident's name")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300)


class CompleteForm(forms.Form):
    notes = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    minutes = forms.IntegerField(label=_("Minutes served (each)"), min_value=1)
    volunteers = forms.TypedMultipleChoiceField(label=_("Who served"), required=False, coerce=int)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteers"].choices = [(v.pk, v.name) for v in people]


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"), coerce=int, choices=[(i, "★" * i) for i in range(5, 0, -1)], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DispatchForm(forms.Form):
    team = forms.TypedChoiceField(label=pgettext_lazy("order", "Team"), required=False, coerce=int, empty_value=None)
    volunteers = forms.TypedMultipleChoiceField(label=_("Or named volunteers"), required=False, coerce=int)
    promised_by = forms.DateTimeField(
        label=_("Promised by"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, teams=(), volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "—")] + [
            (t.pk, f"{t.name} · {t.get_category_display()} · {t.org.name}") for t in teams
        ]
        self.fields["volunteers"].choices = [(v.pk, v.name) for v in volunteers]


class MenuItemForm(forms.Form):
    org = forms.ModelChoiceField(label=_("Node"), queryset=None)
    title = forms.CharField(label=_("Title"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), choices=TeamCategory.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    service_area = forms.CharField(label=_("Service area"), required=False, max_length=200)
    time_windows = forms.CharField(label=_("Time windows"), required=False, max_length=200)
    expected_minutes = forms.IntegerField(label=_("Expected minutes"), initial=60, min_value=1)
    points = forms.IntegerField(label=_("Points"), initial=0, min_value=0)

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class MenuItemEditForm(MenuItemForm):
    """Editing a service of the menu: its node stays; the providing teams and whether residents see it."""

    teams = forms.TypedMultipleChoiceField(
        label=_("Providing teams"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Teams of this node, above it or below it; they come first in the dispatch suggestions."),
    )
    active = forms.BooleanField(label=_("Shown on the menu"), required=False)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, orgs=None, **kwargs)
        del self.fields["org"]
        self.fields["teams"].choices = [(t.pk, f"{t.name} · {t.get_category_display()} · {t.org.name}") for t in teams]
