"""Demo data for `make run`: organisations, staff logins, a few named families, a small region.

Everything here is synthetic. It is idempotent: a second run finds what the first made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from integration.enums import DataKind, Scope, SystemKind
from integration.models import ExternalSystem
from platform_core.enums import OrganisationKind, Power, Role
from platform_core.errors import DomainError
from platform_core.models import Municipality, Organisation, Region, User
from platform_core.roles import roles_sync, user_role_apply
from registries.enums import DisabilityGroup, RelationBasis, RelationKind, StatusKind
from registries.models import Person, PersonStatus, Relation

DEMO_PASSWORD = "demo12345"  # noqa: S105 (printed to the demo user on purpose)

ALL_POWERS = list(Power.values)
REGIONAL_POWERS = [p for p in Power.values if p != Power.OPERATE_PLATFORM]
OFFICE_POWERS = [Power.VIEW_PERSONAL_DATA, Power.CHANGE_PERSONAL_DATA, Power.RECEIVE_APPLICATIONS]


@dataclass
class DemoSummary:
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    persons_created: int = 0
    generated: int = 0
    systems: list[tuple[str, str]] = field(default_factory=list)


ORGANISATIONS = [
    # key, name, kind, region, municipality, powers
    ("sfr", "Социальный фонд России", OrganisationKind.FEDERAL_BODY, None, None, ALL_POWERS),
    (
        "min27",
        "Министерство социальной защиты Хабаровского края",
        OrganisationKind.REGIONAL_MINISTRY,
        "27",
        None,
        REGIONAL_POWERS,
    ),
    ("mfc27", "МФЦ г. Хабаровска", OrganisationKind.MFC, "27", "08701000", OFFICE_POWERS),
    (
        "dep77",
        "Департамент труда и социальной защиты населения города Москвы",
        OrganisationKind.REGIONAL_MINISTRY,
        "77",
        None,
        REGIONAL_POWERS,
    ),
]

STAFF = [
    # username, organisation key, role, last, first, patronymic
    ("officer27", "min27", Role.OFFICER, "Петрова", "Анна", "Сергеевна"),
    ("supervisor27", "min27", Role.SUPERVISOR, "Ким", "Олег", "Викторович"),
    ("operator27", "mfc27", Role.OPERATOR, "Соловьёва", "Ирина", "Павловна"),
    ("officer77", "dep77", Role.OFFICER, "Смирнов", "Дмитрий", "Андреевич"),
    ("auditor", "sfr", Role.AUDITOR, "Лебедева", "Елена", "Игоревна"),
    ("platform", "sfr", Role.PLATFORM_OPERATOR, "Орлов", "Максим", "Юрьевич"),
]

# Other agencies' systems, with demo signing secrets: what each may post (scopes), what it
# answers for (data kinds), and which emulated peer plays it ("agencies" serves each agency
# under its code: docs/peers.md).
SYSTEMS = [
    # code, name, kind, scopes, provides, peer
    (
        "zags-27",
        "ЗАГС Хабаровского края",
        SystemKind.CIVIL_REGISTRY,
        [Scope.CIVIL_REGISTRY_EVENTS],
        [],
        None,
    ),
    (
        "fri",
        "Федеральный реестр инвалидов",
        SystemKind.DISABILITY_REGISTRY,
        [Scope.DISABILITY_EVENTS],
        [DataKind.DISABILITY],
        "agencies",
    ),
    (
        "edu-27",
        "Региональная система образования",
        SystemKind.EDUCATION,
        [Scope.EDUCATION_EVENTS],
        [DataKind.EDUCATION],
        "agencies",
    ),
    ("fns", "ФНС России", SystemKind.TAX, [], [DataKind.INCOME], "agencies"),
    (
        "sfr",
        "Социальный фонд России",
        SystemKind.SOCIAL_FUND,
        [],
        [DataKind.BENEFITS, DataKind.PENSION],
        "agencies",
    ),
    ("mvd", "МВД России", SystemKind.INTERIOR, [], [DataKind.ADDRESS], "agencies"),
    ("bank", "Банк-агент по выплатам", SystemKind.BANK, [], [], "bank"),
    (
        "egisso",
        "Федеральный реестр мер социальной защиты",
        SystemKind.FEDERAL_REGISTER,
        [],
        [],
        "register",
    ),
]
PEER_URLS = {
    "agencies": "http://127.0.0.1:8101/",
    "bank": "http://127.0.0.1:8102/",
    "register": "http://127.0.0.1:8103/",
}


def _peer_url(code: str, peer: str | None, peer_urls: dict[str, str]) -> str:
    if peer is None:
        return ""
    base = peer_urls[peer].rstrip("/") + "/"
    return f"{base}{code}/" if peer == "agencies" else base


FAMILIES = {
    # key: snils, last, first, patronymic, birth, sex, municipality
    "mother": (
        "112-233-445 95",
        "Иванова",
        "Мария",
        "Петровна",
        date(1994, 5, 17),
        "F",
        "08701000",
    ),
    "father": (
        "087-654-321 82",
        "Иванов",
        "Алексей",
        "Сергеевич",
        date(1991, 11, 2),
        "M",
        "08701000",
    ),
    "son": (None, "Иванов", "Тимофей", "Алексеевич", date(2021, 3, 9), "M", "08701000"),
    "large_mother": (
        "156-842-377 14",
        "Кузнецова",
        "Ольга",
        "Николаевна",
        date(1988, 2, 24),
        "F",
        "08709000",
    ),
    "large_1": (None, "Кузнецов", "Артём", "Игоревич", date(2012, 7, 1), "M", "08709000"),
    "large_2": (None, "Кузнецова", "Полина", "Игоревна", date(2015, 9, 14), "F", "08709000"),
    "large_3": (None, "Кузнецова", "Вера", "Игоревна", date(2019, 1, 30), "F", "08709000"),
    "guardian": (
        "129-574-683 06",
        "Белова",
        "Галина",
        "Ивановна",
        date(1962, 4, 5),
        "F",
        "08701000",
    ),
    "ward": (None, "Белов", "Кирилл", "Андреевич", date(2014, 10, 12), "M", "08701000"),
}


def _organisations() -> dict[str, Organisation]:
    result = {}
    for key, name, kind, region, municipality, powers in ORGANISATIONS:
        result[key], _ = Organisation.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "region_id": region,
                "municipality_id": municipality,
                "powers": powers,
            },
        )
    return result


def _user(username: str, **fields: object) -> User:
    user, _ = User.objects.update_or_create(username=username, defaults=fields)
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    user_role_apply(user=user)
    return user


def _person(key: str) -> tuple[Person, bool]:
    snils, last, first, patronymic, born, sex, oktmo = FAMILIES[key]
    lookup = (
        {"snils": snils} if snils else {"last_name": last, "first_name": first, "birth_date": born}
    )
    municipality = Municipality.objects.filter(pk=oktmo).first()
    return Person.objects.get_or_create(
        **lookup,
        defaults={
            "snils": snils,
            "last_name": last,
            "first_name": first,
            "patronymic": patronymic,
            "birth_date": born,
            "sex": sex,
            "region_id": "27",
            "municipality": municipality,
            "notification_channels": ["portal", "email"],
        },
    )


def _relation(kind: str, basis: str, parent: Person, child: Person, since: date) -> None:
    Relation.objects.get_or_create(
        kind=kind, from_person=parent, to_person=child, valid_from=since, defaults={"basis": basis}
    )


def demo_data_load(
    *, generate_persons: int = 0, seed: int = 27, peer_urls: dict[str, str] | None = None
) -> DemoSummary:
    """Create the demo organisations, logins, systems and families (and a generated region).

    `peer_urls` says where the emulated peers listen ("agencies", "bank", "register").
    """
    summary = DemoSummary()
    for code in ("27", "77"):
        if not Region.objects.filter(pk=code).exists():
            raise DomainError(
                f"Region {code} is missing: run `manage.py load_reference_data` first."
            )
    with transaction.atomic():
        roles_sync()
        organisations = _organisations()
        admin = _user("admin", is_staff=True, is_superuser=True, last_name="Администратор")
        summary.logins.append((admin.username, DEMO_PASSWORD, str(_("superuser"))))
        for username, org_key, role, last, first, patronymic in STAFF:
            organisation = organisations[org_key]
            _user(
                username,
                is_staff=True,
                organisation=organisation,
                role=role,
                last_name=last,
                first_name=first,
                patronymic=patronymic,
            )
            summary.logins.append((username, DEMO_PASSWORD, f"{Role(role).label} — {organisation}"))
        for code, name, kind, scopes, provides, peer in SYSTEMS:
            system, _created = ExternalSystem.objects.get_or_create(
                code=code,
                defaults={"name": name, "kind": kind, "scopes": scopes, "secret": f"demo-{code}"},
            )
            system.provides = provides
            system.base_url = _peer_url(code, peer, {**PEER_URLS, **(peer_urls or {})})
            system.save(update_fields=["provides", "base_url"])
            summary.systems.append((system.code, system.secret))
        people = {}
        for key in FAMILIES:
            people[key], created = _person(key)
            summary.persons_created += created
        mother, father, son = people["mother"], people["father"], people["son"]
        _relation(RelationKind.SPOUSE, RelationBasis.MARRIAGE, father, mother, date(2019, 8, 10))
        for parent in (mother, father):
            _relation(RelationKind.PARENT, RelationBasis.BIRTH, parent, son, son.birth_date)
        for child_key in ("large_1", "large_2", "large_3"):
            child = people[child_key]
            _relation(
                RelationKind.PARENT,
                RelationBasis.BIRTH,
                people["large_mother"],
                child,
                child.birth_date,
            )
        PersonStatus.objects.get_or_create(
            person=people["large_mother"],
            kind=StatusKind.LARGE_FAMILY,
            defaults={"valid_from": date(2019, 3, 1), "source": "demo"},
        )
        ward = people["ward"]
        _relation(
            RelationKind.REPRESENTATIVE,
            RelationBasis.GUARDIANSHIP,
            people["guardian"],
            ward,
            date(2020, 6, 1),
        )
        PersonStatus.objects.get_or_create(
            person=ward,
            kind=StatusKind.DISABILITY,
            defaults={
                "valid_from": date(2020, 2, 1),
                "valid_to": date(2032, 10, 11),
                "disability_group": DisabilityGroup.CHILD,
                "from_childhood": True,
                "source": "demo",
            },
        )
    if (
        generate_persons
        and not Person.objects.filter(region_id="27")
        .exclude(pk__in=[p.pk for p in people.values()])
        .exists()
    ):
        from registries.services.population import population_generate

        summary.generated = population_generate(
            region_code="27", persons=generate_persons, seed=seed
        ).persons
    return summary
