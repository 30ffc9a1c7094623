"""The Celery application: the worker and beat of the platform."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("social_treasury")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
