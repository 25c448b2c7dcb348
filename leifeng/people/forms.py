"""Forms only parse; the services decide (server rules are authoritative, DESIGN §4 rules 1–4)."""

from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from leifeng.core.idnumbers import PHONE_HELP, Gender, IdType
from leifeng.people.models import AvailableTime, PoliticalStatus, Volunteer, VolunteerStatus
from leifeng.people.services import CONSENT_TEXT, EXTRA_INFO_CONSENT_TEXT, VolunteerInput, split_skills

CHECKS = forms.CheckboxSelectMultiple(attrs={"class": "checks"})


class VolunteerForm(forms.Form):
    """The fields every entry path shares. `stations` are (group, [(id, name)]) from selectors.station_choices."""

    org_id = forms.TypedChoiceField(label=_("Station"), coerce=int, empty_value=None)
    name = forms.CharField(label=_("Name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RIC)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=30,
        help_text=_("Gender and birth date are read from a resident ID number."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        help_text=_("Only for documents other than the resident ID card"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=[("", "——"), *Gender.choices],
        help_text=_("Only for documents other than the resident ID card"),
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=PHONE_HELP,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    skills = forms.MultipleChoiceField(label=_("Skills"), required=False, widget=CHECKS)
    other_skills = forms.CharField(
        label=_("Other skills"),
        required=False,
        max_length=300,
        help_text=_("Separate several skills with commas or 、"),
    )
    available_times = forms.MultipleChoiceField(
        label=_("Available time"), required=False, choices=AvailableTime.choices, widget=CHECKS
    )
    political_status = forms.ChoiceField(
        label=_("Political status"), choices=PoliticalStatus.choices, initial=PoliticalStatus.MASSES
    )
    in_service_party_member = forms.BooleanField(
        label=_("In-service party member"),
        required=False,
        help_text=_("A party member working in a unit who reports to this community (在职党员)"),
    )
    extra_info_consent = forms.BooleanField(label=EXTRA_INFO_CONSENT_TEXT, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    guardian_name = forms.CharField(label=_("Guardian's name"), required=False, max_length=50)
    guardian_phone = forms.CharField(
        label=_("Guardian's mobile number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    guardian_consent = forms.BooleanField(
        label=_("My guardian agrees to my registration as a volunteer"), required=False
    )
    consent = forms.BooleanField(label=CONSENT_TEXT, required=False)

    # Marked required for the browser; the server leaves every rule to the service, which reports all at once.
    marked_required = ("org_id", "name", "id_number", "phone", "consent")

    def __init__(self, *args, stations=(), skill_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name, f in self.fields.items():
            f.required = False
            if name in self.marked_required:
                f.widget.attrs["required"] = True
        self.fields["org_id"].choices = [("", "——")] + [(group or _("Other"), list(items)) for group, items in stations]
        self.fields["skills"].choices = [(n, n) for n in skill_names]

    def to_input(self) -> VolunteerInput:
        d = self.cleaned_data
        return VolunteerInput(
            name=d.get("name") or "",
            id_number=d.get("id_number") or "",
            id_type=d.get("id_type") or IdType.RIC,
            phone=d.get("phone") or "",
            org_id=d.get("org_id") or 0,
            email=d.get("email") or "",
            address=d.get("address") or "",
            skills=list(d.get("skills") or []) + split_skills(d.get("other_skills") or ""),
            available_times=list(d.get("available_times") or []),
            political_status=d.get("political_status") or PoliticalStatus.MASSES,
            in_service_party_member=bool(d.get("in_service_party_member")),
            consent=bool(d.get("consent")),
            extra_info_consent=bool(d.get("extra_info_consent")),
            guardian_name=d.get("guardian_name") or "",
            guardian_phone=d.get("guardian_phone") or "",
            guardian_consent=bool(d.get("guardian_consent")),
            birth_date=d.get("birth_date"),
            gender=d.get("gender") or "",
        )


class RegisterForm(VolunteerForm):
    """Self-registration: the same fields plus the password of the new account."""

    marked_required = (*VolunteerForm.marked_required, "password", "password2")

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 8 characters, not only digits. You log in with your mobile number."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class StaffVolunteerForm(VolunteerForm):
    """Entry by staff from a paper form: staff confirm the volunteer signed the consent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = _("The volunteer has signed the consent below")
        self.fields["consent"].help_text = CONSENT_TEXT
        self.fields["extra_info_consent"].label = _("The volunteer also agreed to keep the optional information")


class EditForm(VolunteerForm):
    """Correcting a record (staff) or a rejected application (the applicant): an empty ID field keeps the ID."""

    marked_required = ("org_id", "name", "phone")

    def __init__(self, *args, with_consent: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_consent:  # the applicant consents again when resubmitting
            self.fields["consent"].widget.attrs["required"] = True
        else:  # staff correcting a record: the consent given at registration stands
            del self.fields["consent"]
        self.fields["id_number"].help_text = _("Leave empty to keep the ID number on record.")

    @staticmethod
    def initial_for(volunteer: Volunteer, skill_names: set[str]) -> dict:
        own = list(volunteer.skills.values_list("name", flat=True))
        return {
            "org_id": volunteer.org_id,
            "name": volunteer.name,
            "id_type": volunteer.id_type,
            "phone": volunteer.phone,
            "birth_date": volunteer.birth_date if volunteer.id_type != IdType.RIC else None,
            "gender": volunteer.gender if volunteer.id_type != IdType.RIC else "",
            "skills": [s for s in own if s in skill_names],
            "other_skills": "、".join(s for s in own if s not in skill_names),
            "available_times": volunteer.available_times,
            "political_status": volunteer.political_status,
            "in_service_party_member": volunteer.in_service_party_member,
            "extra_info_consent": volunteer.extra_info_consent,
            "email": volunteer.email,
            "address": volunteer.address,
            "guardian_name": volunteer.guardian_name,
            "guardian_phone": volunteer.guardian_phone,
            "guardian_consent": volunteer.guardian_consent_at is not None,
            "consent": False,
        }


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejection"), max_length=300, required=False)


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class FilterForm(forms.Form):
    """The list filters; VolunteerFilters.from_params reads the same names."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, pinyin (zw), number or phone")},
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    org = forms.TypedChoiceField(label=_("Organization"), required=False, coerce=int)
    political_status = forms.ChoiceField(label=_("Political status"), required=False)
    in_service_party_member = forms.ChoiceField(
        label=_("In-service party member"),
        required=False,
        choices=[("", _("All")), ("1", _("Yes")), ("0", _("No"))],
    )
    skill = forms.ChoiceField(label=_("Skill"), required=False)

    def __init__(self, *args, orgs=(), skill_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["status"].choices = everything + list(VolunteerStatus.choices)
        self.fields["org"].choices = everything + list(orgs)
        self.fields["political_status"].choices = everything + list(PoliticalStatus.choices)
        self.fields["skill"].choices = everything + [(n, n) for n in skill_names]

    def options(self, name: str) -> str:
        """<option> tags of a select, built in Python: hundreds of org nodes are slow in a template loop."""
        current = str(self[name].data or "")
        tags = (
            f'<option value="{escape(value)}"{" selected" if str(value) == current else ""}>{escape(label)}</option>'
            for value, label in self.fields[name].choices
        )
        return mark_safe("".join(tags))  # every value and label is escaped above

    def selects(self):
        """(bound field, options) for every select of the filter bar."""
        return [(self[name], self.options(name)) for name in self.fields if name != "q"]
