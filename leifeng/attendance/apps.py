from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "leifeng.attendance"
    label = "attendance"

    def ready(self):
        # hours sits below attendance and may not import it: attendance adds its part of the hours review
        from leifeng.attendance.views import review_panel
        from leifeng.hours.panels import add_review_panel

        add_review_panel("attendance/review_panel.html", review_panel)
