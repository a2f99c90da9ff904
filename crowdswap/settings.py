"""Settings for CrowdSwap, driven entirely by environment variables.

Defaults let a fresh clone run with nothing installed system-wide: SQLite, media on
local disk, and the private Redis that setup.sh starts (REDIS_URL).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CROWDSWAP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
DEV_SECRET_KEY = "dev-insecure-crowdswap-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)


def weak_secret_key(key: str) -> str:
    """Return why a secret key is too weak to sign sessions and cookies in production, or ""."""
    if key == DEV_SECRET_KEY:
        return "the development key is public"
    if key.startswith("django-insecure"):
        return "it is marked insecure"
    # Django's own deployment rule (security.W009): long, and not made of a few repeated characters.
    if len(key) < 50 or len(set(key)) < 5:
        return f"it has {len(key)} characters ({len(set(key))} different); use at least 50 random ones"
    return ""


if not DEBUG and (_weakness := weak_secret_key(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"SECRET_KEY is too weak for DEBUG off: {_weakness}. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Addresses or networks of our own reverse proxies / load balancers. Only their X-Forwarded-For and
# X-Forwarded-Proto are believed (crowdswap.lib.clients); every other peer is the client itself.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    # Before channels: the job engine overrides its runworker command (warm-up once, periodic sweep).
    "crowdswap.jobs",
    "rooms",
    "swaps",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.facebook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, so sessions and messages exist; still before the CSRF check, which runs with the views.
    "crowdswap.lib.limits.FormLimitsMiddleware",
]

ROOT_URLCONF = "crowdswap.urls"
ASGI_APPLICATION = "crowdswap.asgi.application"
WSGI_APPLICATION = None

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
                "crowdswap.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'crowdswap.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # A connection pool per process (psycopg_pool): without it every request opened a new PostgreSQL
    # connection (a server process fork each time): a sixth of a guess's cost, and CPU taken from the server.
    # Daphne runs each request's sync code on a fresh thread, so CONN_MAX_AGE cannot keep them instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "2")),
        "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "10")),
        "timeout": int(os.environ.get("DB_POOL_TIMEOUT", "20")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web and worker processes share one SQLite file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Face models (swaps.pipeline takes them as arguments): the detector and the landmark model.
FACE_DETECTOR = os.environ.get("FACE_DETECTOR", "retinaface")  # or "hog" (dlib's HOG, as the seeds used)
FACE_LANDMARKS = os.environ.get("FACE_LANDMARKS", "mesh")  # or "dlib68" (non-commercial training data: a fallback)
# Processes that share the encoding of one photo's many faces (a worker and its helpers, swaps.pipeline.encoder):
# by default the worker and one helper (on a machine with two cores or more). Set 1 where WORKER_PROCESSES already
# gives every core a worker of its own.
FACE_ENCODE_PROCESSES = max(1, int(os.environ.get("FACE_ENCODE_PROCESSES", str(min(2, os.cpu_count() or 1)))))

# Upload limits (bytes and pixels), enforced by swaps.pipeline.images before decoding.
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(25 * 1024 * 1024)))
MAX_IMAGE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", str(50_000_000)))
# Pictures decoded at once per web process: bounds the memory that concurrent uploads take.
UPLOAD_DECODE_CONCURRENCY = int(os.environ.get("UPLOAD_DECODE_CONCURRENCY", "2"))
# Largest request body the web server reads at all (crowdswap.lib.limits): refused unread above it.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", str(4 * MAX_UPLOAD_BYTES + 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 100
# Quotas per user, with messages that say which one was reached.
MAX_ROOMS_PER_USER = int(os.environ.get("MAX_ROOMS_PER_USER", "50"))
MAX_PHOTOS_PER_ROOM = int(os.environ.get("MAX_PHOTOS_PER_ROOM", "300"))
MAX_UPLOADS_PER_HOUR = int(os.environ.get("MAX_UPLOADS_PER_HOUR", "300"))

# Fair play on shared challenges (swaps.services.play): players one network may add to one challenge.
PLAY_JOINS_PER_CLIENT = int(os.environ.get("PLAY_JOINS_PER_CLIENT", "5"))

# Media on S3 (django-storages) when a bucket is named. Credentials are not settings: boto3 reads
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile, or the instance role) itself.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or os.environ.get("AWS_DEFAULT_REGION") or None
    # "path" for S3-compatible servers without per-bucket host names (MinIO, a local endpoint).
    AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None
    AWS_S3_SIGNATURE_VERSION = "s3v4"  # the only one every AWS region accepts for presigned URLs
    AWS_LOCATION = os.environ.get("AWS_LOCATION", "")  # optional key prefix, to share a bucket
    # Friends' photos are personal data: no ACL on upload, so objects stay as private as the bucket,
    # and every URL the app hands out is presigned and short-lived.
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = int(os.environ.get("AWS_QUERYSTRING_EXPIRE", "300"))
    AWS_S3_FILE_OVERWRITE = False  # two uploads with one name must never replace each other
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }

# Channels: Redis when REDIS_URL is set (setup.sh sets it to its private Redis),
# otherwise an in-process layer that is only good for a single process and tests.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNELS_PREFIX", "crowdswap")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "crowdswap.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CHANNELS_PREFIX", "crowdswap"),
        }
    }
    # Sessions are read on every request (a player is found by session): from Redis, written through to the database.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# /readyz: how long the database and Redis may take to answer before the process reports itself unready.
READYZ_TIMEOUT_SECONDS = float(os.environ.get("READYZ_TIMEOUT_SECONDS", "2"))

# The named channel the runworker processes consume (manage.py runworker <name>).
JOBS_CHANNEL = "crowdswap-jobs"
# Jobs: how long before a QUEUED job is re-sent / a RUNNING job without heartbeat is requeued.
JOB_REQUEUE_AFTER_SECONDS = int(os.environ.get("JOB_REQUEUE_AFTER_SECONDS", "60"))
JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "3"))

SITE_ID = 1
LOGIN_REDIRECT_URL = "/rooms/"
LOGOUT_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_LOGIN_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CrowdSwap] "
ACCOUNT_ADAPTER = "crowdswap.accounts.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "crowdswap.accounts.SocialAccountAdapter"
# Signing up with a registered email says nothing about it: allauth creates the account with an unverified
# address, as for any new email (with optional verification, "strict" is the mode that hides it).
ACCOUNT_PREVENT_ENUMERATION = "strict"
# Wrong passwords are counted per client and account (see AccountAdapter), so an attacker's five
# guesses lock only the attacker out, never the account's owner elsewhere.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,5/5m/key"}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CrowdSwap <noreply@crowdswap.local>")

FACEBOOK_APP_ID = os.environ.get("FACEBOOK_APP_ID", "")
FACEBOOK_APP_SECRET = os.environ.get("FACEBOOK_APP_SECRET", "")
FACEBOOK_ENABLED = bool(FACEBOOK_APP_ID and FACEBOOK_APP_SECRET)
SOCIALACCOUNT_PROVIDERS = {
    "facebook": {
        "METHOD": "oauth2",
        "SCOPE": ["email", "public_profile"],
        "FIELDS": ["id", "email", "name", "first_name", "last_name"],
        "VERIFIED_EMAIL": False,
        "VERSION": "v19.0",
        **(
            {"APPS": [{"client_id": FACEBOOK_APP_ID, "secret": FACEBOOK_APP_SECRET, "key": ""}]}
            if FACEBOOK_ENABLED
            else {}
        ),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # One handler, so the same refusal gives the same status and body in every API view.
    "EXCEPTION_HANDLER": "crowdswap.lib.api.exception_handler",
}
SPECTACULAR_SETTINGS = {"TITLE": "CrowdSwap API", "VERSION": "1.0.0", "SERVE_INCLUDE_SCHEMA": False}

if not DEBUG:
    # No SECURE_PROXY_SSL_HEADER: the scheme comes from X-Forwarded-Proto of TRUSTED_PROXIES only (asgi.py).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe /healthz and /readyz over plain HTTP inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django attaches its own console handler; let its records reach the root handler only once.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
