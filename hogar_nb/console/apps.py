"""The console as a Django app."""

from __future__ import annotations

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "hogar_nb.console"
    label = "console"
    verbose_name = "HOGAR console"
    default_auto_field = "django.db.models.BigAutoField"
