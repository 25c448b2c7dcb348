"""The station's self-registration QR code (people:register_qr) and the preselected station."""

import io

import segno
from django.urls import reverse


def test_qr_encodes_the_station_registration_link(client, tree):
    response = client.get(reverse("people:register_qr", args=[tree.st_a1.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    expected = io.BytesIO()
    url = f"http://testserver/people/register/?org={tree.st_a1.pk}"
    segno.make(url, error="m").save(expected, kind="svg", scale=8, border=2, title=tree.st_a1.name)
    assert response.content == expected.getvalue()


def test_qr_only_for_stations_and_points(client, tree):
    assert client.get(reverse("people:register_qr", args=[tree.center.pk])).status_code == 404
    assert client.get(reverse("people:register_qr", args=[tree.sub_a.pk])).status_code == 404
    assert client.get(reverse("people:register_qr", args=[987654])).status_code == 404


def test_scanned_link_preselects_the_station(client, tree):
    html = client.get(reverse("people:register") + f"?org={tree.st_a2.pk}").content.decode()
    assert f'<option value="{tree.st_a2.pk}" selected>' in html


def test_station_page_shows_the_qr_to_its_staff(tree, owner, client_for):
    html = client_for(owner).get(reverse("orgs:org_detail", args=[tree.st_a1.pk])).content.decode()
    assert reverse("people:register_qr", args=[tree.st_a1.pk]) in html
