from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from frontoffice.services import citizen_account_for
from registries.models import Person
from registries.services.demo import FAMILIES


class Command(BaseCommand):
    help = (
        "Give the adults of the demo families (load_demo_data) portal logins offered on the "
        "demo login page; run again, it changes nothing."
    )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        snils = [row[0] for row in FAMILIES.values() if row[0]]
        made = []
        for person in Person.objects.filter(snils__in=snils).order_by("last_name", "first_name"):
            account = citizen_account_for(person, demo=True)
            made.append(account)
            self.stdout.write(f"{person}  ({_('portal login')}: /portal/login/)")
        self.stdout.write(
            self.style.SUCCESS(_("%(count)d demo citizens can log in.") % {"count": len(made)})
        )
