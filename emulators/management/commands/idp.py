"""`manage.py idp --port 8105`: the emulated identity provider (ESIA-like, OpenID Connect).

It prints one line with its URL once it listens (with `--port 0`, the port the system chose),
serves until SIGTERM or SIGINT. The demo citizens of `load_demo_data` are offered on its login
page; any other SNILS can be typed there.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from emulators.idp import Citizen, IdentityProvider, IdpServer, key_load
from registries.services.demo import FAMILIES


class Command(BaseCommand):
    help = _("Emulated identity provider (OpenID Connect, ESIA-like) for the citizen portal.")
    # The provider does not use the database; it starts without the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, required=True, help=_("port to listen on; 0 picks a free one")
        )
        parser.add_argument("--issuer", default="", help=_("issuer URL; by default its own"))
        parser.add_argument("--client-id", default="social-treasury-portal")
        parser.add_argument("--client-secret", default="demo-idp")
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help=_("a redirect URI the client may use (repeat); none: any http(s) URI"),
        )
        parser.add_argument(
            "--key-file", default="", help=_("RSA private key (PEM); by default a new one")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = key_load(options["key_file"])
        except (OSError, ValueError) as exc:
            raise CommandError(
                _("Cannot read the key %(path)s: %(error)s")
                % {"path": options["key_file"], "error": exc}
            ) from exc
        citizens = [
            Citizen(snils, last, first, patronymic)
            for snils, last, first, patronymic, *_rest in FAMILIES.values()
            if snils
        ]
        idp = IdentityProvider(
            client_id=options["client_id"],
            client_secret=options["client_secret"],
            key=key,
            citizens=citizens,
            redirect_uris=options["redirect_uri"],
        )
        try:
            server = IdpServer(
                (options["host"], options["port"]),
                idp,
                issuer=options["issuer"],
                verbosity=options["verbosity"],
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
        self.stdout.write(_("idp listening on %(url)s") % {"url": server.url})
        self.stdout.flush()
        while not stop.wait(0.5):
            pass
        server.shutdown()
        serving.join()
        server.server_close()
        self.stdout.write(_("idp stopped"))
        self.stdout.flush()
