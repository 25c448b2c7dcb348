"""DESIGN §8: `check --deploy` clean in production settings, a CSP on every page that htmx lives with."""

import os
import re
import secrets
import subprocess
import sys

from django.conf import settings
from django.urls import reverse

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "leifeng.config.settings",
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "volunteer.example.gov.cn",
    "SECURE_COOKIES": "True",
    "SECURE_SSL_REDIRECT": "True",
    "SECURE_HSTS_SECONDS": "31536000",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.gov.cn",
}


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(PRODUCTION_ENV, DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def _documented_production_env(tmp_path) -> dict[str, str]:
    """The environment exactly as docs/operations.md §2 writes it (the e-mail lines uncommented), with its
    placeholders filled in: what an operator following the guide ends up with."""
    from cryptography.fernet import Fernet

    text = (settings.BASE_DIR / "docs" / "operations.md").read_text(encoding="utf-8")
    block = text.split("## 2.", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    env = {}
    for line in block.splitlines():
        line = line.strip().removeprefix("#").strip()
        for assignment in re.findall(r"([A-Z_]+)=(\S+)", line):
            env[assignment[0]] = assignment[1]
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "EMAIL_HOST_USER": "leifeng",
        "EMAIL_HOST_PASSWORD": secrets.token_urlsafe(12),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    }
    env.update(filled)
    assert {"EMAIL_BACKEND", "EMAIL_PORT", "EMAIL_USE_SSL", "BEHIND_PROXY", "SECURE_HSTS_SECONDS"} <= set(env)
    return env


def test_check_deploy_is_clean_with_the_settings_the_operations_guide_writes(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(_documented_production_env(tmp_path), DJANGO_SETTINGS_MODULE="leifeng.config.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_check_deploy_does_complain_about_development_settings(tmp_path):
    """The test above means something: the same command fails on the laptop defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "SECRET_KEY"))}
    env.update(DJANGO_SETTINGS_MODULE="leifeng.config.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


def csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def test_pages_carry_a_strict_content_security_policy(client, tree):
    response = client.get(reverse("accounts:login"))
    policy = csp(response)
    assert policy["script-src"] == "script-src 'self'"  # no inline scripts, no eval
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_logged_in_pages_and_the_api_carry_it_too(client_for, owner):
    client = client_for(owner)
    for url in [reverse("home:home"), reverse("accounts:user_list"), reverse("core:audit"), "/api/v1/accounts/me"]:
        assert "script-src 'self'" in client.get(url)["Content-Security-Policy"], url


def test_htmx_loads_as_a_same_origin_file_and_nothing_runs_inline(client_for, owner):
    client = client_for(owner)
    html = client.get(reverse("home:home")).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "htmx should be on every page"
    for attrs, body in scripts:
        src = re.search(r'src="([^"]+)"', attrs)
        assert src and src.group(1).startswith(settings.STATIC_URL), attrs  # same origin: allowed by 'self'
        assert body.strip() == ""  # no inline code: 'unsafe-inline' is not needed
    htmx_src = re.search(r'src="([^"]*htmx[^"]*\.js)"', html).group(1)
    assert client.get(htmx_src).status_code == 200
    # htmx's own inline <style> and eval-based features are switched off, so the CSP never blocks it
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either


def test_session_and_csrf_cookies_are_protected(client, tree):
    from leifeng.testing import PASSWORD, make_user

    make_user("zhang", role="org_staff", org=tree.st_a1)
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": PASSWORD})
    assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"]
    assert settings.CSRF_COOKIE_HTTPONLY is False  # htmx reads the token from the page, not the cookie


def test_production_knobs_turn_secure_cookies_and_hsts_on():
    """The env knobs documented in settings.py really reach the settings."""
    code = (
        "import leifeng.config.settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.DEBUG, s.MAILERS['default']['BACKEND'].rsplit('.', 2)[-2])"
    )
    env = {**os.environ, **PRODUCTION_ENV}
    out = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True", "True", "31536000", "True", "False", "smtp"], out.stderr
