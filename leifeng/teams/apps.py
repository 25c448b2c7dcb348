from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "leifeng.teams"
    label = "teams"

    def ready(self):
        from django.db.models import Q

        from leifeng.orgs.selectors import count_per_node

        # The org tree counts active teams per node (orgs cannot import teams: it sits below).
        count_per_node("team_count", "teams", Q(is_active=True))
