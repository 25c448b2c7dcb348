"""The attendance fixtures (an activity of 东关社区站 with posts and a signed-up volunteer) serve here too."""

from leifeng.attendance.tests.conftest import activity, make_volunteer, post, post2, vol  # noqa: F401
