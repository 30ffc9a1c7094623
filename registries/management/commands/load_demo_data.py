from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from platform_core.errors import DomainError
from registries.services.demo import PEER_URLS, demo_data_load


class Command(BaseCommand):
    help = "Load demo organisations, staff logins, families and a small synthetic region."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--persons", type=int, default=20_000, help="Generated persons in region 27."
        )
        parser.add_argument("--seed", type=int, default=27)
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the server will listen, for the printed links.",
        )
        for peer, url in PEER_URLS.items():
            parser.add_argument(
                f"--{peer}-url", default=url, help=f"Where the emulated {peer} listen."
            )

    def handle(self, *args, persons: int, seed: int, base_url: str, **options) -> None:  # type: ignore[no-untyped-def]
        if persons < 0:
            raise CommandError(_("--persons must not be negative."))
        try:
            summary = demo_data_load(
                generate_persons=persons,
                seed=seed,
                peer_urls={peer: options[f"{peer}_url"] for peer in PEER_URLS},
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
        self.stdout.write(
            _("Named persons created: %(named)d; generated: %(generated)d.")
            % {"named": summary.persons_created, "generated": summary.generated}
        )
        self.stdout.write(
            "\n"
            + _("Demo logins (password for all: %(password)s):")
            % {"password": summary.logins[0][1]}
        )
        for username, _password, description in summary.logins:
            self.stdout.write(f"  {username:<14} {description}")
        self.stdout.write("\n" + _("External systems (code: signing secret):"))
        for code, secret in summary.systems:
            self.stdout.write(f"  {code:<14} {secret}")
        base_url = base_url.rstrip("/")
        self.stdout.write(
            _("Send births from the emulated civil registry:")
            + f" manage.py emulate births --count 10 --url {base_url}"
        )
        self.stdout.write("\n" + _("Back office:") + f" {base_url}/admin/")
        self.stdout.write(_("API (Swagger UI):") + f" {base_url}/api/docs/")
        self.stdout.write(_("OpenAPI schema:") + f" {base_url}/api/schema/")
