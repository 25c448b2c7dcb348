"""Page forms: they parse and show; the rules live in services.py (errors come back via apply_errors)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.orgs.models import Org
from leifeng.teams import selectors
from leifeng.teams.models import Team, TeamCategory, TeamKind, TeamLevel
from leifeng.teams.policy import team_policy


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Org) -> str:
        return "\u3000" * max(obj.depth - 1, 0) + obj.name  # indented by depth, like the tree


class ParentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.name}（{obj.get_level_display()} · {obj.org.name}）"


class TeamForm(forms.Form):
    org = OrgChoiceField(label=pgettext_lazy("team", "Organization"), queryset=Org.objects.none())
    parent = ParentChoiceField(
        label=pgettext_lazy("team", "Parent team"),
        queryset=Team.objects.none(),
        required=False,
        help_text=_("A team of a higher level, at the same organization or one above it"),
    )
    name = forms.CharField(label=pgettext_lazy("team", "Name"), max_length=100)
    level = forms.ChoiceField(
        label=pgettext_lazy("team", "Level"), choices=TeamLevel.choices, initial=TeamLevel.SQUADRON
    )
    category = forms.ChoiceField(label=pgettext_lazy("team", "Category"), choices=TeamCategory.choices)
    kind = forms.ChoiceField(
        label=pgettext_lazy("team", "Kind"),
        choices=TeamKind.choices,
        initial=TeamKind.OPTIONAL,
        help_text=_("“5+n”: the five fixed teams every station keeps, plus teams chosen locally"),
    )
    max_members = forms.IntegerField(
        label=pgettext_lazy("team", "Member limit"),
        required=False,
        min_value=1,
        help_text=_("Groups default to the group size limit; leave empty for no limit"),
    )
    description = forms.CharField(
        label=pgettext_lazy("team", "Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = team_policy.homes(actor).order_by("path")
        self.fields["parent"].queryset = selectors.parent_choices(actor=actor)

    @staticmethod
    def initial_for(team: Team) -> dict:
        return {
            "org": team.org_id,
            "parent": team.parent_id,
            "name": team.name,
            "level": team.level,
            "category": team.category,
            "kind": team.kind,
            "max_members": team.max_members,
            "description": team.description,
        }


class TeamEditForm(TeamForm):
    is_active = forms.BooleanField(
        label=pgettext_lazy("team", "Active"), required=False, help_text=_("An inactive team takes no new members")
    )

    @staticmethod
    def initial_for(team: Team) -> dict:
        return {**TeamForm.initial_for(team), "is_active": team.is_active}


class LeadersForm(forms.Form):
    leader = forms.CharField(
        label=_("Leader's volunteer number"), required=False, max_length=20, help_text=_("Empty: no leader")
    )
    deputy = forms.CharField(
        label=_("Deputy's volunteer number"), required=False, max_length=20, help_text=_("Empty: no deputy")
    )


class JoinForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the leader"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=pgettext_lazy("team", "Reason"), max_length=300)


NUMBER_SPLIT = re.compile(r"[\s,，、;；]+")


def numbers_from(post) -> list[str]:
    """Volunteer numbers from ticked search results and from a pasted list (spaces, commas, 、)."""
    ticked = [n.strip() for n in post.getlist("numbers") if n.strip()]
    pasted = [n for n in NUMBER_SPLIT.split(post.get("numbers_text", "")) if n]
    return ticked + pasted
