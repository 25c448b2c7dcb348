"""Excel pages: import (upload, result, error report), template download, export — with the personas."""

import io

import openpyxl
import pytest
from django.urls import reverse

from leifeng.core.models import AuditEvent
from leifeng.people.models import Volunteer
from leifeng.people.tests.test_excel import HEADERS, read_rows, ric, row, upload, wrong_check_digit, xlsx
from leifeng.testing import VolunteerFactory

IMPORT = reverse("people:volunteer_import")
TEMPLATE = reverse("people:volunteer_import_template")
EXPORT = reverse("people:volunteer_export")


def post_file(client, data: bytes, **fields):
    payload = {"file": upload(data), "confirm": "on", **fields}
    return client.post(IMPORT, payload)


def options(response) -> set[str]:
    return {label for _value, label in response.context["form"].fields["default_org"].choices}


# --------------------------------------------------------------------------------------------- import


def test_owner_imports_from_the_page(tree, owner, client_for):
    client = client_for(owner)
    page = client.get(IMPORT)
    assert page.status_code == 200
    assert "长安街道分中心 / 东关社区站" in options(page) and not any("北村站" in o for o in options(page))

    response = post_file(client, xlsx([row(1), row(2)]), approve="on")

    assert response.status_code == 200
    result = response.context["result"]
    assert result.ok and result.created == 2 and result.approved == 2
    assert result.numbers[0] in response.content.decode()
    assert Volunteer.objects.filter(org=tree.st_a1, status="approved").count() == 2


def test_colleague_imports_into_the_same_station(tree, colleague, client_for):
    response = post_file(client_for(colleague), xlsx([row(1, station="")]), default_org=tree.st_a1.pk)
    assert response.context["result"].created == 1
    assert Volunteer.objects.get().org == tree.st_a1


def test_outsider_cannot_import_into_someone_elses_station(tree, outsider, client_for):
    client = client_for(outsider)
    page = client.get(IMPORT)
    assert page.status_code == 200  # outsiders run their own station
    assert not any("东关社区站" in o for o in options(page))

    response = post_file(client, xlsx([row(1, station="")]), default_org=tree.st_a1.pk)
    assert response.status_code == 200 and "default_org" in response.context["form"].errors

    response = post_file(client, xlsx([row(1)]))  # the file names 东关社区站
    errors = response.context["result"].errors
    assert [(e.row, e.column) for e in errors] == [(2, "E")]
    assert Volunteer.objects.count() == 0


@pytest.mark.parametrize("url", [IMPORT, TEMPLATE])
def test_without_change_rights_the_import_pages_do_not_exist(tree, assessor, client_for, url):
    assert client_for(assessor).get(url).status_code == 404


def test_anonymous_is_sent_to_log_in(tree, client):
    response = client.get(IMPORT)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_errors_are_listed_with_row_and_column_and_nothing_is_imported(tree, owner, client_for):
    client = client_for(owner)
    rows = [row(i) for i in range(1, 5)]
    rows[2][2] = wrong_check_digit(rows[2][2])  # Excel row 4

    response = post_file(client, xlsx(rows))

    assert Volunteer.objects.count() == 0
    html = response.content.decode()
    assert response.context["result"].errors[0].row == 4
    assert '<td data-label="' in html and ">4</td>" in html and "C · 证件号码" in html
    token = response.context["report"]

    report = client.get(IMPORT, {"report": token})
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd.openxmlformats")
    lines = read_rows(b"".join(report.streaming_content))
    assert lines[0] == ("行", "列", "列名", "原因") and lines[1][:3] == (4, "C", "证件号码")


def test_the_error_report_belongs_to_its_session(tree, owner, colleague, client_for, client):
    rows = [row(1, 姓名="")]
    token = post_file(client_for(owner), xlsx(rows)).context["report"]
    client.logout()
    other = client_for(colleague)
    assert other.get(IMPORT, {"report": token}).status_code == 404


def test_only_the_first_200_errors_are_shown(tree, owner, client_for):
    rows = [row(i, 手机号码="123") for i in range(1, 251)]

    response = post_file(client_for(owner), xlsx(rows))

    assert len(response.context["result"].errors) == 250
    assert len(response.context["errors_shown"]) == 200
    assert response.content.decode().count('<td data-label="') == 200 * 3


def test_file_problems_show_on_the_form(tree, owner, client_for):
    response = post_file(client_for(owner), b"id,name\n1,x\n")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]

    missing = xlsx([["王芳", ric(1)]], headers=["姓名", "证件号码"])
    response = post_file(client_for(owner), missing)
    assert "手机号码" in response.context["form"].errors["file"][0]


def test_consent_must_be_confirmed(tree, owner, client_for):
    response = client_for(owner).post(IMPORT, {"file": upload(xlsx([row(1)]))})
    assert "confirm" in response.context["form"].errors
    assert Volunteer.objects.count() == 0


# ------------------------------------------------------------------------------------------- template


def test_template_download(tree, owner, client_for):
    response = client_for(owner).get(TEMPLATE)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [c.value for c in wb["志愿者"][1]][: len(HEADERS)] == HEADERS
    assert [c.value for c in wb["选项"]["E"] if c.value] == ["东关社区站"]


# --------------------------------------------------------------------------------------------- export


def exported(response) -> list[tuple]:
    assert response.status_code == 200, response
    assert "attachment" in response["Content-Disposition"]
    return read_rows(b"".join(response.streaming_content))


def test_export_follows_the_list_filters_and_masks(tree, owner, client_for):
    VolunteerFactory(org=tree.st_a1, ric=ric(1), name="王芳")
    VolunteerFactory(org=tree.st_a1, ric=ric(2), name="李娜", status="pending")

    rows = exported(client_for(owner).get(EXPORT, {"status": "pending"}))

    assert [r[0] for r in rows[1:]] == ["李娜"]
    assert rows[1][2] == ric(2)[:6] + "********" + ric(2)[-4:]


def test_unmasked_export_for_view_id_is_audited(tree, owner, colleague, client_for):
    VolunteerFactory(org=tree.st_a1, ric=ric(1))
    rows = exported(client_for(colleague).get(EXPORT, {"unmasked": "1"}))
    assert rows[1][2] == ric(1)
    event = AuditEvent.objects.get(action="volunteer.export_unmasked")
    assert event.actor == colleague and event.changes["count"] == 1


def test_outsider_exports_nothing_of_another_subtree(tree, outsider, client_for):
    VolunteerFactory(org=tree.st_a1, ric=ric(1))
    rows = exported(client_for(outsider).get(EXPORT, {"org": tree.st_a1.pk, "unmasked": "1"}))
    assert rows[1:] == []


def test_assessor_exports_masked_but_never_unmasked(tree, assessor, client_for):
    VolunteerFactory(org=tree.st_a1, ric=ric(1))
    client = client_for(assessor)
    assert exported(client.get(EXPORT))[1][2].count("*") == 8

    response = client.get(EXPORT, {"unmasked": "1", "status": "approved"})

    assert response.status_code == 302 and response["Location"].endswith("?status=approved")
    assert not AuditEvent.objects.filter(action="volunteer.export_unmasked").exists()


def test_export_needs_a_role(tree, client_for):
    from leifeng.testing import make_user

    assert client_for(make_user("nobody")).get(EXPORT).status_code == 404
