"""The 404 / 403 / 500 pages are the site's own, in Chinese by default, sized for a phone."""

from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error


def test_404_in_chinese_with_the_site_frame(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert 'name="viewport"' in html
    assert "返回首页" in html


def test_404_in_english_when_chosen(client, db):
    client.cookies["django_language"] = "en"
    html = client.get("/no/such/page/").content.decode()
    assert "Page not found" in html


def test_403_in_chinese_with_the_reason(owner):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/")
    request.user = owner
    with translation.override("zh-hans"):
        response = permission_denied(request, PermissionDenied("只有活动的组织者可以这样做。"))
        html = response.content.decode()
        assert response.status_code == 403
        assert "无权操作" in html
        assert "只有活动的组织者可以这样做。" in html
        response = permission_denied(request, PermissionDenied())
        assert "您的账号在这里没有这项权限" in response.content.decode()


def test_500_page_stands_alone(db):
    request = RequestFactory().get("/")
    with translation.override("zh-hans"):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in html
    assert 'name="viewport"' in html
