"""What the API fuzz found in /api/v1/teams/: a leader object unlike its document, nulls, ids beyond bigint."""

import pytest

from leifeng.config.api import api
from leifeng.teams.models import Team

API = "/api/v1/teams/"
HUGE = 2**63 + 5


def _fields(response, status=422):
    assert response.status_code == status, response.content
    return response.json()["error"]["fields"]


def _resolve(schemas, node):
    """The component a property points at (directly, or as the non-null member of anyOf)."""
    refs = [node.get("$ref")] + [n.get("$ref") for n in node.get("anyOf", [])]
    return schemas[next(r for r in refs if r).rsplit("/", 1)[1]]


def test_the_leader_object_answers_what_the_document_says(owner, client_for, team, make_volunteer):
    vol = make_volunteer()
    client = client_for(owner)
    assert client.patch(f"{API}{team.pk}", {"leader": vol.number}, content_type="application/json").status_code == 200
    leader = client.get(f"{API}{team.pk}").json()["leader"]
    schemas = api.get_openapi_schema()["components"]["schemas"]
    documented = _resolve(schemas, schemas["TeamOut"]["properties"]["leader"])
    assert set(documented["required"]) <= set(leader) and set(leader) <= set(documented["properties"])
    assert leader == {"number": vol.number, "name": vol.name}


@pytest.mark.parametrize("field", ["name", "org_id", "level", "is_active"])
def test_team_patch_refuses_null_for_a_not_null_column(field, owner, client_for, team):
    """The team service refuses these itself (400 naming the field, as test_api's test_patch_refuses_…)."""
    before = Team.objects.values().get(pk=team.pk)
    response = client_for(owner).patch(f"{API}{team.pk}", {field: None}, content_type="application/json")
    assert field in _fields(response, 400)
    assert Team.objects.values().get(pk=team.pk) == before


def test_team_patch_null_still_clears_the_nullable_ones(owner, client_for, team):
    response = client_for(owner).patch(f"{API}{team.pk}", {"max_members": None}, content_type="application/json")
    assert response.status_code == 200 and response.json()["max_members"] is None


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("get", "{huge}", None, "team_id"),
        ("patch", "{huge}", {"name": "x"}, "team_id"),
        ("post", "{id}/memberships/{huge}/approve", {}, "membership_id"),
        ("get", "?org={huge}", None, "org"),
        ("patch", "{id}", {"parent_id": HUGE}, "parent_id"),
        ("patch", "{id}", {"max_members": HUGE}, "max_members"),
        ("post", "", {"org_id": HUGE, "name": "x"}, "org_id"),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, path, body, field, owner, client_for, team):
    c = client_for(owner)
    url = API + path.format(huge=HUGE, id=team.pk)
    response = getattr(c, method)(url, body, content_type="application/json") if body is not None else c.get(url)
    assert field in _fields(response)
