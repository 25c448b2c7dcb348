"""Page forms: they parse and show; the rules live in services.py (errors come back via apply_errors)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.activities.models import Activity, ActivityCategory, Campaign, Post, Visibility
from leifeng.activities.policy import in_or_above_q
from leifeng.core.roles import Perm
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import LeadingGroup, Org, Unit
from leifeng.orgs.policy import unit_policy
from leifeng.people.models import Skill
from leifeng.people.selectors import skill_list
from leifeng.teams.models import Team

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Org) -> str:
        return "\u3000" * max(obj.depth - 1, 0) + obj.name


def _above_or_in(actor, model, perm: Perm = Perm.CHANGE):
    """Rows of `model` (with an org) in the actor's subtree or at a node above it."""
    return model.objects.select_related("org").filter(in_or_above_q(actor, perm))


class CampaignForm(forms.Form):
    org = OrgChoiceField(label=_("Owner node"), queryset=Org.objects.none())
    title = forms.CharField(label=pgettext_lazy("campaign", "Title"), max_length=120)
    theme = forms.CharField(label=_("Theme"), max_length=200, required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    guidance = forms.CharField(label=_("Guiding ideas"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    requirements = forms.CharField(label=_("Requirements"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    leading_group = forms.ModelChoiceField(
        label=_("Leading group"), queryset=LeadingGroup.objects.none(), required=False
    )
    units = forms.ModelMultipleChoiceField(
        label=_("Participating units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_policy.orgs(actor, Perm.CHANGE).order_by("path")
        self.fields["leading_group"].queryset = _above_or_in(actor, LeadingGroup).order_by("org__path", "name")
        self.fields["units"].queryset = unit_policy.visible(actor, Perm.VIEW).order_by("name")

    @staticmethod
    def initial_for(c: Campaign) -> dict:
        return {
            "org": c.org_id,
            "title": c.title,
            "theme": c.theme,
            "starts_on": c.starts_on,
            "ends_on": c.ends_on,
            "guidance": c.guidance,
            "requirements": c.requirements,
            "leading_group": c.leading_group_id,
            "units": list(c.units.values_list("pk", flat=True)),
        }


class PhaseForm(forms.Form):
    name = forms.CharField(label=_("Phase"), max_length=60)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    description = forms.CharField(label=_("What happens"), max_length=500, required=False)


PhaseFormSet = forms.formset_factory(PhaseForm, extra=1, can_delete=True)


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("Copy to year"), min_value=2000, max_value=2100)
    with_activities = forms.BooleanField(label=_("Copy its activities as drafts"), required=False, initial=True)


class ActivityForm(forms.Form):
    org = OrgChoiceField(label=_("Organizer"), queryset=Org.objects.none())
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)
    title = forms.CharField(label=pgettext_lazy("activity", "Title"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), choices=ActivityCategory.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    lead_unit = forms.ModelChoiceField(label=_("Lead unit"), queryset=Unit.objects.none(), required=False)
    address = forms.CharField(label=pgettext_lazy("place", "Address"), max_length=200)
    latitude = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6, required=False)
    longitude = forms.DecimalField(label=_("Longitude"), max_digits=9, decimal_places=6, required=False)
    geofence_m = forms.IntegerField(
        label=_("Geofence radius (m)"), min_value=10, required=False, help_text=_("Empty: check-in anywhere")
    )
    minors_allowed = forms.BooleanField(
        label=_("Minors (14–17) may join"),
        required=False,
        help_text=_("They still need a recorded guardian consent"),
    )
    risky = forms.BooleanField(
        label=_("Risky: needs insurance"), required=False, help_text=_("Publishing needs an insurance record")
    )
    supplies = forms.CharField(
        label=_("Supplies checklist"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One item per line"),
    )
    safety_notes = forms.CharField(label=_("Safety notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    visibility = forms.ChoiceField(label=_("Visible to"), choices=Visibility.choices, initial=Visibility.SUBTREE)
    teams = forms.ModelMultipleChoiceField(
        label=_("Invited teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    signup_opens_at = forms.DateTimeField(label=_("Sign-up opens"), widget=DATETIME, required=False)
    signup_closes_at = forms.DateTimeField(label=_("Sign-up closes"), widget=DATETIME, required=False)
    withdraw_deadline = forms.DateTimeField(
        label=_("Withdrawal deadline"),
        widget=DATETIME,
        required=False,
        help_text=_("After this, people who signed up themselves can no longer withdraw"),
    )
    group_size = forms.IntegerField(label=_("Group size"), min_value=1, max_value=50, initial=8)

    FIELDS = (
        "title",
        "category",
        "description",
        "address",
        "latitude",
        "longitude",
        "geofence_m",
        "minors_allowed",
        "risky",
        "supplies",
        "safety_notes",
        "contact_name",
        "contact_phone",
        "visibility",
        "signup_opens_at",
        "signup_closes_at",
        "withdraw_deadline",
        "group_size",
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_policy.orgs(actor, Perm.CHANGE).order_by("path")
        self.fields["campaign"].queryset = _above_or_in(actor, Campaign).order_by("-starts_on")
        self.fields["lead_unit"].queryset = _above_or_in(actor, Unit, Perm.VIEW).order_by("name")
        self.fields["teams"].queryset = _above_or_in(actor, Team, Perm.VIEW).order_by("org__path", "name")

    def service_fields(self) -> dict:
        d = self.cleaned_data
        out = {k: d[k] for k in self.FIELDS}
        for k in ("description", "supplies", "safety_notes", "contact_name", "contact_phone"):
            out[k] = out[k] or ""
        out["campaign_id"] = d["campaign"].pk if d["campaign"] else None
        out["lead_unit_id"] = d["lead_unit"].pk if d["lead_unit"] else None
        return out

    @staticmethod
    def initial_for(a: Activity) -> dict:
        out = {k: getattr(a, k) for k in ActivityForm.FIELDS}
        out.update(
            org=a.org_id,
            campaign=a.campaign_id,
            lead_unit=a.lead_unit_id,
            teams=list(a.teams.values_list("pk", flat=True)),
        )
        return out


# Up to this many skills in the vocabulary: tick boxes; more: the phone's own multi-select list.
SKILL_CHECKBOXES_UP_TO = 24


class PostForm(forms.Form):
    title = forms.CharField(label=_("Post"), max_length=80)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DATETIME)
    quota = forms.IntegerField(label=_("Quota"), min_value=1)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    skills = forms.ModelMultipleChoiceField(
        label=_("Required skills"),
        queryset=Skill.objects.none(),
        required=False,
        help_text=_("Only volunteers whose profile lists every skill chosen here can sign up."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vocabulary = skill_list()
        field = self.fields["skills"]
        field.queryset = vocabulary
        names = list(vocabulary.values_list("pk", "name"))  # one query, reused as the choices
        field.choices = names
        if len(names) <= SKILL_CHECKBOXES_UP_TO:
            field.widget = forms.CheckboxSelectMultiple(attrs={"class": "checks"})
        else:
            field.widget = forms.SelectMultiple(attrs={"size": 8})
        field.widget.choices = names

    def service_fields(self) -> dict:
        """What post_create / post_update take: the skills as ids (an empty list clears them)."""
        d = dict(self.cleaned_data)
        d["skill_ids"] = [s.pk for s in d.pop("skills", None) or []]
        return d

    @staticmethod
    def initial_for(post: Post) -> dict:
        out = {k: getattr(post, k) for k in ("title", "starts_at", "ends_at", "quota", "description")}
        out["skills"] = list(post.skills.values_list("pk", flat=True))
        return out


class InsuranceForm(forms.Form):
    insurer = forms.CharField(label=_("Insurer"), max_length=100)
    policy_number = forms.CharField(label=_("Policy number"), max_length=60)
    covers_from = forms.DateField(label=_("Covers from"), widget=DATE)
    covers_to = forms.DateField(label=_("Covers to"), widget=DATE)
    insured_count = forms.IntegerField(label=_("People insured"), min_value=1, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    numbers = forms.CharField(
        label=_("Volunteer numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Empty: every member of the team. Otherwise one number per line or separated by commas."),
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def number_list(self) -> list[str] | None:
        import re

        raw = self.cleaned_data.get("numbers") or ""
        items = [n for n in re.split(r"[\s,，、;；]+", raw) if n]
        return items or None


class ReportForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 6}))


class PhotoForm(forms.Form):
    image = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG or WebP, at most 10 MB"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    caption = forms.CharField(label=_("Caption"), max_length=120, required=False)
