"""/api/v1/hours/: ids beyond bigint and minutes beyond the column are a 422 naming the field."""

import pytest

HUGE = 2**63 + 5


def _call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "method,url,body,field",
    [
        ("get", "/api/v1/hours/records?org={huge}", None, "org"),
        ("get", "/api/v1/hours/totals?activity={huge}", None, "activity"),
        ("post", "/api/v1/hours/records/{huge}/correct", {"minutes": 5, "reason": "x"}, "record_id"),
        ("post", "/api/v1/hours/claims/{huge}/decision", {"approve": True}, "claim_id"),
        ("post", "/api/v1/hours/claims", {"post_id": HUGE, "minutes": 5}, "post_id"),
        ("post", "/api/v1/hours/records/1/correct", {"minutes": HUGE, "reason": "x"}, "minutes"),
        ("get", "/api/v1/hours/certificates/{huge}", None, "certificate_id"),
        ("post", "/api/v1/hours/certificates/{huge}/refuse", {"reason": "x"}, "certificate_id"),
        ("post", "/api/v1/hours/certificates/", {"org_id": HUGE}, "org_id"),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, url, body, field, client_for, owner):
    """Found by the API fuzz: an id above bigint reached the database (a 500); now the schema refuses it."""
    response = _call(client_for(owner), method, url.format(huge=HUGE), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
