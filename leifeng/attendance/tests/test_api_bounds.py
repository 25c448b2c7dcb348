"""What the API fuzz found in /api/v1/attendance/: the request key's document, NaN/Infinity, ids beyond bigint."""

import pytest
from django.utils import timezone

from leifeng.attendance import services
from leifeng.attendance.models import Attendance
from leifeng.attendance.tests.conftest import at
from leifeng.config.api import api

pytestmark = pytest.mark.django_db
API = "/api/v1/attendance"
HUGE = 2**63 + 5


@pytest.fixture
def running(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(0, 10))


@pytest.mark.parametrize("path", ["/api/v1/attendance/check", "/api/v1/attendance/duration-code"])
def test_the_request_key_is_documented_as_required(path):
    operation = api.get_openapi_schema()["paths"][path]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert "Required" in header["description"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    schemas = api.get_openapi_schema()["components"]["schemas"]
    key = schemas[body["$ref"].rsplit("/", 1)[1]]["properties"]["key"]
    assert "Required" in key["description"] and key["anyOf"][0]["maxLength"] == 80


@pytest.mark.parametrize("lat", [float("nan"), float("inf"), -float("inf"), 91])
def test_a_position_that_is_no_number_is_422_naming_it(lat, client_for, activity, post, vol, running):
    body = {"token": services.kiosk_token(activity), "key": "k", "lat": lat, "lng": 120.0}
    response = client_for(vol.user).post(f"{API}/check", body, content_type="application/json")
    assert response.status_code == 422 and "lat" in response.json()["error"]["fields"]
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("path", ["/posts/{huge}/roll-call", "/activities/{huge}/kiosk-token"])
def test_ids_beyond_bigint_are_422_naming_the_field(path, client_for, owner, activity):
    response = client_for(owner).get(API + path.format(huge=HUGE))
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) & {"post_id", "activity_id"}
