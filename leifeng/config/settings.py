"""One plain settings file, driven by the environment (healthchecks style).

Every knob an operator may turn is read here with a small typed helper; the defaults make
`make run` work on a laptop with SQLite and nothing else.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "False")
SECRET_KEY = os.getenv("SECRET_KEY", "leifeng-dev-only-secret-key-change-me-in-production-0123456789")
# Keys for personal data. Separate from SECRET_KEY so rotating sessions never loses ID numbers.
FIELD_ENCRYPTION_KEY = os.getenv("FIELD_ENCRYPTION_KEY", "")  # urlsafe base64, 32 bytes; derived if empty
BLIND_INDEX_KEY = os.getenv("BLIND_INDEX_KEY", "")  # any string; derived if empty
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = os.getenv("SITE_NAME", "leifeng")
REGION_NAME = os.getenv("REGION_NAME", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "django_htmx",
    "axes",
    "ninja",  # serves the API docs' Swagger UI from our own static files (no CDN, no inline script)
    "leifeng.core",
    "leifeng.accounts",
    "leifeng.orgs",
    "leifeng.people",
    "leifeng.teams",
    "leifeng.activities",
    "leifeng.attendance",
    "leifeng.hours",
    "leifeng.orders",
    "leifeng.notifications",
    "leifeng.demo",
    "leifeng.home",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "leifeng.core.middleware.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "leifeng.accounts.middleware.PrincipalMiddleware",  # Django's AuthenticationMiddleware, in one query
    "leifeng.core.throttle.ThrottleMiddleware",  # anonymous writes and failed logins (THROTTLE_RULES)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leifeng.config.urls"
WSGI_APPLICATION = "leifeng.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "leifeng" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "leifeng.home.context_processors.navigation",
            ],
        },
    },
]

# SQLite by default (WAL, IMMEDIATE transactions, busy timeout); DATABASE_URL for PostgreSQL.
DATABASE_URL = os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'leifeng.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", "0"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    # PostgreSQL spent ~10x more planning the hot statements than running them. Server-side binding lets
    # psycopg prepare every statement run 5 times on a connection (CONN_MAX_AGE keeps it), and the burst paths
    # (core/fast.py) prepare theirs at once. Behind a pooler in transaction mode (pgbouncer) prepared
    # statements do not survive: set DB_SERVER_SIDE_BINDING=False there.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = envbool("DB_SERVER_SIDE_BINDING", "True")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Kiosk check-in and self sign-up answered in front of Django on PostgreSQL (leifeng/core/fast.py).
LEIFENG_FAST_PATHS = envbool("FAST_PATHS", "True")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "leifeng.accounts.backends.PhoneOrUsernameBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["username", "display_name", "phone", "email"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Throttled failed logins (django-axes): after AXES_FAILURE_LIMIT failures per user name and
# address, that pair is locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", "15") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# One counter per account whichever way it is typed (user name, phone, "+86 139…"); lockouts answer
# with the API's error format under /api/ and with a page elsewhere (HTTP 429 both).
AXES_USERNAME_CALLABLE = "leifeng.accounts.backends.login_key"
AXES_LOCKOUT_CALLABLE = "leifeng.accounts.views.lockout"
AXES_ENABLED = envbool("AXES_ENABLED", "True")
# The client address behind the reverse proxy (BEHIND_PROXY, PROXY_COUNT): read by leifeng.core.net.client_ip for
# the lockout (so one attacker cannot lock everybody out through the proxy's own address) and for throttling.
BEHIND_PROXY = envbool("BEHIND_PROXY", "False")
PROXY_COUNT = envint("PROXY_COUNT", "1")
AXES_CLIENT_IP_CALLABLE = "leifeng.core.net.client_ip"

# Throttling (leifeng.core.throttle): anonymous writes per address and per mobile number, failed logins per
# address (password spraying across user names). Rates like "10/h", "5/15m"; a 429 with Retry-After over them.
THROTTLE_ENABLED = envbool("THROTTLE_ENABLED", "True")
_LOGIN = {"views": ["accounts:login"], "paths": [r"^/api/v1/accounts/token$"]}
_ORDER = {"views": ["orders:order_new"], "paths": [r"^/api/v1/orders/?$", r"^/open311/v2/requests\.(json|xml)$"]}
_REGISTER = {"views": ["people:register"], "paths": [r"^/api/v1/people/volunteers/register/?$"]}
THROTTLE_RULES = [
    {"name": "login", **_LOGIN, "key": "ip", "count": "failures", "rate": os.getenv("THROTTLE_LOGIN_IP", "10/15m")},
    {"name": "order-ip", **_ORDER, "key": "ip", "rate": os.getenv("THROTTLE_ORDER_IP", "20/h")},
    {"name": "order-phone", **_ORDER, "key": "phone", "rate": os.getenv("THROTTLE_ORDER_PHONE", "5/h")},
    {"name": "register-ip", **_REGISTER, "key": "ip", "rate": os.getenv("THROTTLE_REGISTER_IP", "10/h")},
    {"name": "register-phone", **_REGISTER, "key": "phone", "rate": os.getenv("THROTTLE_REGISTER_PHONE", "3/h")},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "leifeng" / "locale"]
TIME_ZONE = os.getenv("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "leifeng" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", str(50 * 1024 * 1024))

# Security (DESIGN §8). Production sets, behind HTTPS (`manage.py check --deploy` is then clean;
# leifeng/core/tests/test_security.py runs it):
#   DEBUG=False  SECRET_KEY=<50+ random characters>  ALLOWED_HOSTS=volunteer.example.gov.cn
#   SECURE_COOKIES=True  SECURE_SSL_REDIRECT=True  SECURE_HSTS_SECONDS=31536000
#   EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend  EMAIL_HOST=…  (see MAILERS below)
# SECURE_HSTS_INCLUDE_SUBDOMAINS / SECURE_HSTS_PRELOAD default to on and only act once
# SECURE_HSTS_SECONDS > 0; set them to False if a subdomain of the site must stay on plain HTTP.
# BEHIND_PROXY=True trusts X-Forwarded-Proto / X-Forwarded-For from the reverse proxy.
SESSION_ENGINE = "leifeng.accounts.sessions"  # database sessions that name their account (one query a page)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "False")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "True")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", "False") else None
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (Django's ContentSecurityPolicyMiddleware). Scripts only
# from our own static files: htmx comes from django-htmx's static files, never inline (no nonces needed,
# and htmx-config in base.html turns off its eval-based features). Inline `style=""` attributes stay
# allowed: they cannot run code.
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "script-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# E-mail: the console in development; production names an SMTP server (EMAIL_HOST …) or any backend.
_email_backend = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
MAILERS = {"default": {"BACKEND": _email_backend}}
if _email_backend == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": os.getenv("EMAIL_HOST", "localhost"),
        "port": envint("EMAIL_PORT", "25"),
        "username": os.getenv("EMAIL_HOST_USER", ""),
        "password": os.getenv("EMAIL_HOST_PASSWORD", ""),
        "use_tls": envbool("EMAIL_USE_TLS", "False"),
        "use_ssl": envbool("EMAIL_USE_SSL", "False"),
        "timeout": envint("EMAIL_TIMEOUT", "10"),
    }
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "leifeng@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Regional rules (DESIGN §4): defaults shown, override per installation.
MIN_VOLUNTEER_AGE = envint("MIN_VOLUNTEER_AGE", "14")
ADULT_AGE = 18
TEAM_GROUP_SIZE_LIMIT = envint("TEAM_GROUP_SIZE_LIMIT", "8")
# Per-node overrides live in Org.rules; installation-wide defaults of leifeng/core/rules.py may be set here.
LEIFENG_RULES: dict = {}

# Background work (reminders, escalations, auto-close) with Django's tasks framework. The database
# backend needs no extra server: run `manage.py db_worker` beside the app server. TASKS_BACKEND=immediate
# runs tasks inline (tests, tiny installations).
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend"
        if os.getenv("TASKS_BACKEND", "database") == "immediate"
        else "django_tasks_db.DatabaseBackend",
    }
}

# Notification channels (leifeng/notifications): console and e-mail built in; SMS and WeChat are adapters
# named here by dotted path. Every message also lands in the recipient's in-app inbox.
NOTIFICATION_CHANNELS = [c for c in os.getenv("NOTIFICATION_CHANNELS", "console,email").split(",") if c]
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")
# Adapters "sms" and "wechat" post JSON to the operator's gateway (see docs/operations-notifications.md).
SMS_GATEWAY_URL = os.getenv("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.getenv("SMS_GATEWAY_TOKEN", "")
WECHAT_GATEWAY_URL = os.getenv("WECHAT_GATEWAY_URL", "")
WECHAT_GATEWAY_TOKEN = os.getenv("WECHAT_GATEWAY_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
    # One INFO line per task state change drowns the runserver console (every notification is a task).
    "loggers": {"django.tasks": {"level": os.getenv("TASKS_LOG_LEVEL", "WARNING")}},
}
