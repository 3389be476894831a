"""Settings for the ISMS maintenance tracker, read from environment variables only.

Every variable is listed in README's configuration table. Development (`make run`) sets DEBUG=1
and gets a SQLite database, a generated secret key, a serverless Celery broker and file-based mail,
all kept in the data directory (var/). Production (DEBUG unset) refuses to start without SECRET_KEY
and turns on the deployment security settings that `manage.py check --deploy` looks for.
"""

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from isms.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# Where `make run` keeps its state: SQLite file, uploaded evidence, secret key, outgoing mail.
DATA_DIR = Path(env_str("ISMS_DATA_DIR") or BASE_DIR / "var").resolve()


def _private_data_dir() -> None:
    """Make the data directory readable by its owner only (0700), also one an older version made open: it holds
    mail with live task links, evidence, the secret key and the database. `make run` adds umask 077 (runstack)."""
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    if DATA_DIR.stat().st_uid == os.getuid():
        DATA_DIR.chmod(0o700)


if DEBUG:
    _private_data_dir()


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG unset or false) needs a long random SECRET_KEY, "
            "for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development: generate once and keep it in the data directory so sessions survive restarts.
    _private_data_dir()
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address people reach the app at; used to build absolute links in emails and feeds.
SITE_URL = (env_str("SITE_URL") or f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "isms.foundation.apps.ISMSAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "django_tables2",
    "axes",
    # Two-step sign-in: time-based codes from an authenticator app, and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    # Project apps, bottom layer first (docs/architecture.md; import-linter checks the order).
    "isms.foundation",
    "isms.accounts",
    "isms.notices",
    "isms.maintenance",
    "isms.organisation",
    # Domain apps.
    "controls",
    "evidence",
    "risks",
    "events",
    "audits",
    # The auditor's portal and engagements, audit readiness: above every domain it shows.
    "portal",
    # The top web layer: dashboard, navigation, demo, `make run`.
    "isms.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether this session passed the second step of sign-in (request.user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    # Every view needs a login unless it is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends a session idle for SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS (isms/foundation/sessions.py);
    # the login requirement above then sends the person to the login page, told why.
    "isms.foundation.sessions.SessionLimitMiddleware",
    # A person signed in with a password alone goes to the second step (or, when their role requires it and they
    # have none yet, to setting it up) before any other page (isms/accounts/mfa.py).
    "isms.accounts.mfa.TwoStepMiddleware",
    # An auditor's session ends with their engagement; they may only read; every request of theirs is logged.
    "portal.middleware.AuditorPortalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns lockouts into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "isms.urls"
WSGI_APPLICATION = "isms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "isms.web.context_processors.navigation",
            ],
        },
    },
]

_env = environ.Env()
DATABASES = {"default": _env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'isms.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in `make run`: wait for locks instead of failing,
    # and take the write lock at the start of a transaction so two writers never deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: the application's queries are short, and past PostgreSQL's cost threshold (a scan
    # over a million tasks) JIT spent seconds compiling each run of a query that works for a fraction of that
    # (docs/benchmarks.md, Growth). Options given in DATABASE_URL are kept instead.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # OpenID Connect single sign-on; answers only when OIDC_RP_CLIENT_ID is set (isms/accounts/sso.py).
    "isms.accounts.sso.SSOBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username from one address after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-step sign-in (isms/accounts/mfa.py): people whose role is listed must set it up before anything else; everyone
# else may. Production asks it of the administrators, the compliance team and auditors; development (`make run`'s
# demo) of nobody, so the demo logins work with the password alone.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", [] if DEBUG else ["admin", "compliance", "auditor"])
_unknown_roles = sorted(set(MFA_REQUIRED_ROLES) - {"admin", "compliance", "owner", "viewer", "auditor"})
if _unknown_roles:
    raise ImproperlyConfigured(
        f"MFA_REQUIRED_ROLES names {', '.join(_unknown_roles)}: use admin, compliance, owner, viewer or auditor."
    )
OTP_TOTP_ISSUER = env_str("MFA_ISSUER", "ISMS tracker")  # the name the authenticator app shows
# An emailed invitation lets its person set a password for this many days (isms/accounts/invitations.py).
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# OpenID Connect single sign-on (mozilla-django-oidc, isms/accounts/sso.py): on when OIDC_RP_CLIENT_ID is set. People
# are matched to existing accounts by email address; an unknown address is refused unless OIDC_CREATE_USERS is on;
# the role is never taken from the provider unless OIDC_ROLE_CLAIM names the claim that carries it.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "single sign-on")  # the sign-in button: "Sign in with …"
OIDC_CREATE_USERS = env_bool("OIDC_CREATE_USERS", False)
OIDC_ROLE_CLAIM = env_str("OIDC_ROLE_CLAIM", "")
OIDC_NEW_USER_ROLE = env_str("OIDC_NEW_USER_ROLE", "owner")
if OIDC_ENABLED:
    _missing = [
        name
        for name in ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT")
        + (("OIDC_OP_JWKS_ENDPOINT",) if OIDC_RP_SIGN_ALGO.startswith("RS") else ())
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(f"OIDC_RP_CLIENT_ID is set, so single sign-on needs {', '.join(_missing)} too.")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "media")
# No MEDIA_URL on purpose: evidence is served only through permission-checked views.

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not env_bool("STATIC_MANIFEST", True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Evidence files go to an S3-compatible bucket (AWS S3, MinIO, Ceph…) when S3_BUCKET is set; otherwise to
# MEDIA_ROOT on local disk. Either way they are only ever served through the permission-checked views.
if env_str("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("S3_PREFIX", "evidence-store"),
            "default_acl": None,  # the bucket stays private
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: SMTP when EMAIL_URL is set (smtp://user:pass@host:587, submission://… for STARTTLS),
# files under var/mail/ in development, Django's default SMTP to localhost otherwise.
_email_url = env_str("EMAIL_URL")
if _email_url:
    globals().update(_env.email_url_config(_email_url))
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ISMS <isms@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL or CELERY_BROKER_URL is set; otherwise kombu's filesystem transport,
# which needs no server, so `make run` works on a bare machine.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = DATA_DIR / "celery"
    for _folder in ("queue", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # The exchange tables; without this kombu writes a `control/` folder into the working directory.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # Socket timeouts: a Redis that accepts connections but does not answer must not hang a web request.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 5, "socket_connect_timeout": 5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# The beat schedule: every periodic job, in one place (see isms/beat.py).
from isms.beat import BEAT_SCHEDULE as CELERY_BEAT_SCHEDULE  # noqa: E402,F401

# Demo data (`make run`): one login per role, all sharing this password.
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "isms-demo-2026")

# Security. Production defaults are strict; behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind that proxy the peer is the proxy: the client's address is the X-Forwarded-For it set (deploy/Caddyfile
    # replaces whatever the client sent), for the lockout as for the rate limit (isms/foundation/ratelimit.py).
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# The container health check calls /healthz over plain http from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
# Session limits (isms/foundation/sessions.py): signed out after this long without a request, and this long
# after signing in however busy; the session cookie and the stored session expire with the absolute limit.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 60)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# Posts to the login and the emailed task-link pages, per client address (isms/foundation/ratelimit.py): at
# most this many in each window, counted in Django's cache (Redis when REDIS_URL is set, so every web process
# shares the count; otherwise each process counts for itself).
RATE_LIMIT_REQUESTS = env_int("RATE_LIMIT_REQUESTS", 20)
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 60)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "isms",
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
        if REDIS_URL
        # Each control activity's coverage is kept here (evidence/coverage.py): an ISMS of 500 controls keeps as
        # many entries a period, over the 300 a local cache keeps by default.
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 50_000}}
    ),
    # Whole pages kept until the next write (isms/foundation/pagecache.py): Redis when REDIS_URL is set, shared
    # by every web process; otherwise each process keeps its own (still correct: the version is in the database).
    "pages": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "isms-pages",
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    ),
}
# How long a page may be kept at most (seconds; 0 turns the page cache off). Any write through the application
# ends it sooner; this bounds only what a write made outside it (psql, a restored backup) could leave behind.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)
# Tables of ours whose writes change no kept page (isms/foundation/pagecache.py): the auditors' log gains a line on
# every request an auditor makes, and no kept page shows it (the log and the engagement pages are built each time).
PAGE_CACHE_UNWATCHED_TABLES = ["portal_auditoraction"]
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "isms.web.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): scripts, styles, fonts and pages only from this site. No inline script,
# inline event handler or inline style is allowed: every page's script is a static file (static/, each app's
# static/), positions drawn from data are set from data-* attributes by static/js/isms.js. `data:` images are
# Bootstrap's built-in icons (drawn in its stylesheet) and the empty favicon.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Secrets in addresses (a calendar feed's token) are hidden before anything is written (isms/foundation/logs.py).
    "filters": {"redact_secrets": {"()": "isms.foundation.logs.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The maintenance calendar.
MAINTENANCE_HORIZON_MONTHS = env_int("MAINTENANCE_HORIZON_MONTHS", 13)  # occurrences made this far ahead
TASK_LINK_DAYS = env_int("TASK_LINK_DAYS", 45)  # how long an emailed task link works
NOTICE_SCAN_SECONDS = env_int("NOTICE_SCAN_SECONDS", 60)  # how often beat looks for notices to send
DIGEST_UPCOMING_DAYS = env_int("DIGEST_UPCOMING_DAYS", 28)  # how far ahead the weekly digest looks
EVIDENCE_MAX_UPLOAD_MB = env_int("EVIDENCE_MAX_UPLOAD_MB", 100)  # largest evidence file accepted
# Stored files re-hashed a night by the storage check (evidence_storage_verify); all are checked in turn.
EVIDENCE_VERIFY_MAX_FILES = env_int("EVIDENCE_VERIFY_MAX_FILES", 500)

# Evidence packs (portal/packs.py): where the built ZIPs are kept, and the Ed25519 key that signs them
# (portal/signing.py). With no key file given, one is made on first use under EVIDENCE_PACK_KEY_DIR (0600).
EVIDENCE_PACKS_DIR = Path(env_str("EVIDENCE_PACKS_DIR") or MEDIA_ROOT / "packs")
EVIDENCE_PACK_KEY_FILE = env_str("EVIDENCE_PACK_KEY_FILE")
EVIDENCE_PACK_KEY_DIR = Path(env_str("EVIDENCE_PACK_KEY_DIR") or DATA_DIR / "keys")

# The evidence API (evidence/api/, docs/api.md): bearer tokens only, JSON only. Browser sessions are not
# accepted, so the API needs no CSRF token; the schema and its docs page are public (they hold no data).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["evidence.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Bounded: a JSON body nested beyond 32 levels is a 400, never a recursion error (future endpoints too).
    "DEFAULT_PARSER_CLASSES": ["evidence.api.parsers.BoundedJSONParser", "evidence.api.parsers.SafeMultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "evidence.api.views.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ISMS tracker API",
    "DESCRIPTION": "Push evidence, read your open tasks and complete them, read and assess risks, and read the "
    "registers, audits, nonconformities and management reviews. Authenticate with an API token "
    "(`Authorization: Bearer <token>`) made on the [API tokens](/api/tokens/) page of your account menu. Errors are "
    "JSON with a `detail` that says what to change.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,  # file fields appear as binary uploads in request bodies
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two choice sets share the field name "state": each gets a name of its own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TaskStateEnum": "isms.maintenance.models.Occurrence.State",
        "NonconformityStateEnum": "audits.models.NCState",
    },
}
