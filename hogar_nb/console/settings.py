"""Django settings of the console, read from the environment by :mod:`.config`."""

from __future__ import annotations

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

from .config import database_settings, database_url, secret_key

HERE = Path(__file__).resolve().parent

SECRET_KEY = secret_key()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", *filter(None, os.environ.get("HOGAR_CONSOLE_HOSTS", "").split(","))]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "hogar_nb.console.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "hogar_nb.console.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hogar_nb.console.roles.role_context",
            ],
        },
    },
]

DATABASES = {"default": database_settings(database_url())}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Cookies: HttpOnly and SameSite; the CSRF token is read from the page, not the cookie.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Failed sign-ins: five per user name and address, then a 15-minute cool-off (429).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"
AXES_VERBOSE = False

STATIC_URL = "/static/"
# plotly.js as the plotly Python package ships it (found without importing plotly).
_PLOTLY = Path(list(importlib.util.find_spec("plotly").submodule_search_locations)[0]) / "package_data"
STATICFILES_DIRS = [("plotly", str(_PLOTLY))]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False


def _cache_plotly(headers, path: str, url: str) -> None:
    """plotly.js (4.8 MB) is fetched once: its URL carries plotly's version."""
    if url.startswith(STATIC_URL + "plotly/"):
        headers["Cache-Control"] = "public, max-age=31536000, immutable"


WHITENOISE_ADD_HEADERS_FUNCTION = _cache_plotly

# Uploads: the largest graph file or pasted text accepted.
HOGAR_MAX_UPLOAD = int(os.environ.get("HOGAR_CONSOLE_MAX_UPLOAD", 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * HOGAR_MAX_UPLOAD + 64 * 1024  # past this: a plain 400 page
FILE_UPLOAD_MAX_MEMORY_SIZE = HOGAR_MAX_UPLOAD + 64 * 1024
# Metrics history kept in the database (seconds) and its resolution (seconds per row).
HOGAR_RETENTION_S = float(os.environ.get("HOGAR_CONSOLE_RETENTION", 24 * 3600))
HOGAR_HISTORY_STEP_S = float(os.environ.get("HOGAR_CONSOLE_HISTORY_STEP", 10))

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
