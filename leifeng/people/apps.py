from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "leifeng.people"
    label = "people"

    def ready(self):
        from django.db.models import Q

        from leifeng.core import crypto
        from leifeng.orgs.selectors import count_per_node
        from leifeng.people.models import VolunteerStatus

        crypto.register("people.Volunteer", "id_number_encrypted")  # manage.py rotate_field_key re-encrypts it
        # The org tree counts approved volunteers per node (orgs cannot import people: it sits below).
        count_per_node("volunteer_count", "volunteers", Q(status=VolunteerStatus.APPROVED))
