from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "leifeng.people"
    label = "people"

    def ready(self):
        from leifeng.core import crypto

        crypto.register("people.Volunteer", "id_number_encrypted")  # manage.py rotate_field_key re-encrypts it
