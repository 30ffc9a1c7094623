"""`manage.py run_periodic`: Celery beat's schedule run in this process, for the embedded mode.

With no broker (the embedded mode of `make run`) there is no beat and no worker; this runs the
same periodic tasks (CELERY_BEAT_SCHEDULE: the outbox poller, redeliveries, integration's due
work) in-process on their schedules, so retries and late answers happen there too.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = _("Run Celery beat's periodic tasks in this process (the embedded mode).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help=_("run every periodic task once and stop")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        schedule = {
            entry["task"]: float(entry["schedule"])
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }
        current_app.loader.import_default_modules()  # the tasks modules of every app
        next_run = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, every in schedule.items():
                if next_run[name] > now:
                    continue
                next_run[name] = now + every
                try:
                    current_app.tasks[name].apply()
                except Exception:  # one failing task must not stop the others
                    logger.exception("periodic task %s failed", name)
            if options["once"]:
                return
            time.sleep(max(0.2, min(next_run.values()) - time.monotonic()))
