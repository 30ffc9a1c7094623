"""`manage.py peer agencies --port 8101`: an emulated peer of docs/peers.md as an HTTP server.

`agencies` (the data providers under /fns/, /sfr/, /mvd/, /edu-27/, /fri/), `bank`,
`register` or `sms` (the SMS gateway). It prints one line with its URL once it listens (with
`--port 0`, the port the system chose), serves until SIGTERM or SIGINT, then finishes the
requests it is answering.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from emulators.peers import CODES, PEERS, Faults, PeerServer, peer_build

# How long the requests being answered get to finish after a stop signal.
FINISH_SECONDS = 5.0


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = _(
        "Emulated peer of the platform (data providers, bank, federal register or SMS gateway) "
        "over HTTP."
    )
    # A peer does not use the database; it starts without the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(PEERS))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, required=True, help=_("port to listen on; 0 picks a free one")
        )
        parser.add_argument(
            "--error-share", type=_share, default=0.0, help=_("share of requests answered 503")
        )
        parser.add_argument(
            "--slow-share", type=_share, default=0.0, help=_("share of requests answered late")
        )
        parser.add_argument(
            "--slow-seconds", type=float, default=3.0, help=_("how late a slow answer comes")
        )
        parser.add_argument(
            "--settle-seconds",
            type=float,
            default=5.0,
            help=_("seconds until a payment, return request or complaint is settled"),
        )
        parser.add_argument(
            "--secrets", default="", help=_("signing secrets as code=secret,code=secret")
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        secrets = self._secrets(name, options["secrets"])
        if options["slow_seconds"] < 0 or options["settle_seconds"] < 0:
            raise CommandError(_("--slow-seconds and --settle-seconds must not be negative."))
        faults = Faults(
            error_share=options["error_share"],
            slow_share=options["slow_share"],
            slow_seconds=options["slow_seconds"],
            settle_seconds=options["settle_seconds"],
        )
        peer = peer_build(name=name, faults=faults, secrets=secrets, seed=options["seed"])
        try:
            server = PeerServer(
                (options["host"], options["port"]), peer, verbosity=options["verbosity"]
            )
        except OSError as exc:
            raise CommandError(
                _("Cannot listen on %(host)s:%(port)s: %(error)s")
                % {"host": options["host"], "port": options["port"], "error": exc}
            ) from exc
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_args: stop.set())
        serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
        serving.start()
        self.stdout.write(
            _("peer %(name)s listening on %(url)s") % {"name": name, "url": server.url}
        )
        self.stdout.flush()
        while not stop.wait(0.5):
            pass
        server.shutdown()
        serving.join()
        peer.wait_idle(FINISH_SECONDS)
        server.server_close()
        self.stdout.write(_("peer %(name)s stopped") % {"name": name})
        self.stdout.flush()

    def _secrets(self, name: str, text: str) -> dict[str, str]:
        found = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            code, sep, secret = item.partition("=")
            if not sep or not secret:
                raise CommandError(
                    _("--secrets takes code=secret pairs, not %(item)s.") % {"item": item}
                )
            if code not in CODES[name]:
                raise CommandError(
                    _("Peer %(name)s has no system %(code)s; it has: %(codes)s.")
                    % {"name": name, "code": code, "codes": ", ".join(CODES[name])}
                )
            found[code] = secret
        return found
