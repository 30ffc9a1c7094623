"""`manage.py emulate births --count 1000`: the emulated civil registry sends signed events.

Also `deaths`; `--every N` repeats every N seconds (a registry office that keeps working),
`--batch N` uses the batch endpoint, `--first-after N` waits before the first round (`make
run` starts it beside the server: a few births every five minutes). The system's code and secret come from the platform's
ExternalSystem row (the demo's `zags-27`), or --system/--secret.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from emulators.civil_registry import CivilRegistry, Sender
from integration.models import ExternalSystem


class Command(BaseCommand):
    help = _("Emulated civil registry: register births or deaths and send them to the platform.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["births", "deaths"])
        parser.add_argument("--count", type=int, default=10)
        parser.add_argument("--region", default="27")
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--system", default="zags-27")
        parser.add_argument("--secret", default="")
        parser.add_argument("--date", type=date.fromisoformat, default=None)
        parser.add_argument("--batch", type=int, default=0, help=_("events per batch request"))
        parser.add_argument("--every", type=float, default=0, help=_("repeat every N seconds"))
        parser.add_argument(
            "--first-after", type=float, default=0, help=_("wait N seconds before the first send")
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] < 1:
            raise CommandError(_("--count must be at least 1."))
        secret = options["secret"]
        if not secret:
            system = ExternalSystem.objects.filter(code=options["system"]).first()
            if system is None:
                raise CommandError(
                    _("No external system %(code)s: run load_demo_data or give --secret.")
                    % {"code": options["system"]}
                )
            secret = system.secret
        registry = CivilRegistry(region=options["region"], seed=options["seed"])
        sender = Sender(url=options["url"], system=options["system"], secret=secret)
        time.sleep(options["first_after"])
        while True:
            on = options["date"] or timezone.localdate()
            make = registry.births if options["what"] == "births" else registry.deaths
            documents = list(make(options["count"], on))
            started = time.perf_counter()
            try:
                counts = sender.send(documents, batch=options["batch"])
            except OSError as exc:
                problem = _("The platform at %(url)s does not answer: %(error)s") % {
                    "url": options["url"],
                    "error": exc,
                }
                if not options["every"]:
                    raise CommandError(problem) from exc
                # On a schedule, a registry office tries again at the next round.
                self.stderr.write(problem)
                time.sleep(options["every"])
                continue
            self.stdout.write(
                _("Sent %(n)d %(what)s in %(s).1f s: %(counts)s")
                % {
                    "n": len(documents),
                    "what": options["what"],
                    "s": time.perf_counter() - started,
                    "counts": ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                }
            )
            if not options["every"]:
                return
            time.sleep(options["every"])
