"""All zhtj settings, read from the environment with safe defaults (see README)."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# A development key is only acceptable with DEBUG on; `check --deploy` flags it otherwise.
SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-zhtj-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "zhtj.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mptt",
    "captcha",
    "audit",
    "notifications",
    "orgs",
    "members",
    "approvals",
    "transfers",
    "imports",
    "dataset",
]

MIDDLEWARE = [
    "zhtj.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zhtj.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "members.middleware.ActorMiddleware",
]

ROOT_URLCONF = "zhtj.urls"
WSGI_APPLICATION = "zhtj.wsgi.application"

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
                "django.template.context_processors.i18n",
                "members.context_processors.actor",
                "approvals.context_processors.inbox",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer lock instead of failing at once; WAL lets readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.Person"
AUTHENTICATION_BACKENDS = ["members.backends.IdNumberBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "members.passwords.IdNumberDigitsValidator"},
]

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # The embedded default: one process, tasks run in-process when queued.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "zhtj"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING below, in the same format
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "expire-stale-requests": {"task": "approvals.tasks.expire_requests", "schedule": 3600.0},
    "expire-transfer-allocations": {"task": "transfers.tasks.expire_allocations", "schedule": 3600.0},
    # Uploads of failed jobs hold personal data: kept for a retry only ZHTJ_IMPORT_KEEP_FAILED_DAYS.
    "purge-old-uploads": {"task": "imports.purge_old_uploads", "schedule": 3600.0},
    # An import whose worker was killed is marked failed and retryable (pages only show it as interrupted).
    "mark-interrupted-imports": {"task": "imports.mark_interrupted_jobs", "schedule": 120.0},
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Sessions expire when idle: every request pushes the expiry forward.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# Production is HTTPS; DEBUG (make run) serves plain HTTP on 127.0.0.1.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Load balancers probe /healthz over plain HTTP on the internal network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_FOR = env_bool("USE_X_FORWARDED_FOR", False)

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# To stderr, one line per request (zhtj.request) and per Celery task (zhtj.task); LOG_FORMAT=json for shippers.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "zhtj.logs.JsonFormatter"},
    },
    "filters": {"mask_numbers": {"()": "zhtj.logs.MaskLongNumbers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_numbers"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        "zhtj.request": {"level": env_str("LOG_REQUESTS_LEVEL", "INFO")},
        "zhtj.task": {"level": "INFO"},
    },
}

# Captcha: ZHTJ_CAPTCHA_TEST_MODE=1 makes the captcha accept "PASSED" (for automated checks only).
CAPTCHA_TEST_MODE = env_bool("ZHTJ_CAPTCHA_TEST_MODE", False)
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 5
CAPTCHA_IMAGE_SIZE = (110, 38)
CAPTCHA_FONT_SIZE = 28

# zhtj's own rules.
ZHTJ_LOGIN_MAX_FAILURES = env_int("ZHTJ_LOGIN_MAX_FAILURES", 5)  # per account, then locked
ZHTJ_LOGIN_MAX_FAILURES_PER_IP = env_int("ZHTJ_LOGIN_MAX_FAILURES_PER_IP", 20)
ZHTJ_LOGIN_LOCK_MINUTES = env_int("ZHTJ_LOGIN_LOCK_MINUTES", 15)
# Wrong admin registration codes for one org from all addresses together, then its registration is locked.
ZHTJ_REGCODE_MAX_FAILURES_PER_ORG = env_int("ZHTJ_REGCODE_MAX_FAILURES_PER_ORG", 50)
ZHTJ_INITIAL_PASSWORD_DAYS = env_int("ZHTJ_INITIAL_PASSWORD_DAYS", 0)  # 0: never expires
ZHTJ_REGISTRATION_CODE_DAYS = env_int("ZHTJ_REGISTRATION_CODE_DAYS", 20)
ZHTJ_RESET_CODE_HOURS = env_int("ZHTJ_RESET_CODE_HOURS", 48)
ZHTJ_REQUEST_EXPIRY_DAYS = env_int("ZHTJ_REQUEST_EXPIRY_DAYS", 30)
ZHTJ_WORKER_HEARTBEAT_SECONDS = env_int("ZHTJ_WORKER_HEARTBEAT_SECONDS", 10)  # /healthz: 3 missed = down
ZHTJ_IMPORT_BACKGROUND_ROWS = env_int("ZHTJ_IMPORT_BACKGROUND_ROWS", 2000)
# Sheets with more data rows than this are read and cleaned by a forked child process while the job's own
# process writes to the database (two cores instead of one); smaller ones are done in one process.
ZHTJ_IMPORT_PARALLEL_ROWS = env_int("ZHTJ_IMPORT_PARALLEL_ROWS", 2000)
ZHTJ_IMPORT_MAX_ROWS = env_int("ZHTJ_IMPORT_MAX_ROWS", 200000)
ZHTJ_IMPORT_KEEP_FAILED_DAYS = env_int("ZHTJ_IMPORT_KEEP_FAILED_DAYS", 7)  # then purge_old_uploads deletes
ZHTJ_IMPORT_MAX_BYTES = env_int("ZHTJ_IMPORT_MAX_BYTES", 30 * 1024 * 1024)
ZHTJ_SECRETARY_VERIFIER = env_str("ZHTJ_SECRETARY_VERIFIER", "members.verification.IdRulesVerifier")
