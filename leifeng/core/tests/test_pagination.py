"""core.pagination.Page: a page number or size no list could have is a 422 naming the field, not a 500."""

import pytest

from leifeng.orgs.models import Unit, UnitKind


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=99999999999999999999", "page"),
        ("page=9223372036854775807", "page"),
        ("page_size=10000000000", "page_size"),
    ],
)
def test_absurd_pages_are_refused_by_name(client_for, owner, query, field):
    response = client_for(owner).get(f"/api/v1/orgs/units?{query}")
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert any(field in key for key in body["fields"])


def test_the_last_allowed_page_is_just_empty(client_for, owner, tree):
    Unit.objects.create(org=tree.st_a1, name="东关小学", kind=UnitKind.SCHOOL)
    response = client_for(owner).get("/api/v1/orgs/units?page=1000000")
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["count"] == 1
