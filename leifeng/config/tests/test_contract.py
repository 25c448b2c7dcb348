"""The API keeps its contract under fuzzing (issue #13): schemathesis generates requests from /api/v1/openapi.json
for every operation, in process through the production WSGI entry, with an org admin's token, and fails on any
5xx, any status code the document does not list, a wrong content type, or a response that violates the documented
schema. Deterministic (`derandomize`) and bounded (CONTRACT_EXAMPLES per operation) so it runs on every `make test`;
raise CONTRACT_EXAMPLES for a deeper run.

The "data acceptance" checks are left out on purpose: a schema-valid request that a business rule refuses (400)
is correct behaviour here, not a contract breach.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leifeng.config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "4"))


@pytest.fixture
def same_connection():
    """Requests go through the WSGI entry, which closes the database connection when a request finishes; inside
    the test's transaction it must stay open, as Django's own test client arranges it."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(owner, tree, same_connection):
    from leifeng.accounts.services import token_create
    from leifeng.testing import TeamFactory, VolunteerFactory

    VolunteerFactory(org=tree.st_a1)
    TeamFactory(org=tree.st_a1)
    return token_create(actor=owner, name="contract")[1]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_keeps_the_documented_contract(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
