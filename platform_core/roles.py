"""Roles as Django groups: what each kind of staff user may do with which models.

Jurisdiction narrows every one of these permissions to the user's territory; a role only says
which kinds of records and actions are open at all.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from platform_core.enums import Role

PERSONAL_DATA = [
    "registries.person",
    "registries.relation",
    "registries.lifeevent",
    "registries.personstatus",
    "registries.incomerecord",
    "registries.employmentrecord",
]
REFERENCE_DATA = [
    "platform_core.region",
    "platform_core.municipality",
    "platform_core.calendarday",
    "registries.classifieritem",
    "registries.bank",
    "registries.subsistenceminimum",
]
OPERATIONS = [
    "platform_core.outboxevent",
    "platform_core.eventdelivery",
    "integration.externalsystem",
    "integration.inboundevent",
    "integration.dataexchange",
    "integration.providercircuit",
    "integration.federalfact",
]
# What officers asked other agencies for their cases, and their complaints about it.
DATA_REQUESTS = ["integration.datarequest", "integration.datacomplaint"]
# The measures catalogue (labels only: platform_core imports no higher app).
MEASURES_CATALOGUE = [
    "measures.measure",
    "measures.functiontransfer",
    "measures.channelpolicy",
    "measures.ruleversion",
]
ENTITLEMENTS = ["measures.entitlement"]
CASES = [
    "measures.case",
    "measures.caseentry",
    "measures.decision",
    "measures.assignment",
    "measures.application",
    "measures.socialcontract",
    "measures.contractstep",
    "measures.contractassistance",
]
# Money owed and paid (written by the payroll only).
TREASURY = [
    "treasury.accrual",
    "treasury.payment",
    "treasury.paymentbatch",
    "treasury.ledgerentry",
    "treasury.posting",
    "treasury.budgetlimit",
]
# What citizens were told, on which channel, and how the sending went.
NOTIFICATIONS = ["contact_center.notification"]
# What citizens sent from the portal (answered by staff), and what it issued them.
PORTAL = ["frontoffice.appeal", "frontoffice.citizenaccount", "frontoffice.certificate"]

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.OFFICER: {
        **{m: ("view", "add", "change") for m in PERSONAL_DATA},
        **{m: ("view",) for m in REFERENCE_DATA + MEASURES_CATALOGUE + ENTITLEMENTS},
        # Officers write, preview and publish their region's rules; the catalogue itself is
        # the supervisors'.
        "measures.ruleversion": ("view", "add", "change"),
        "registries.insurer": ("view",),
        "integration.datarequest": ("view",),
        "integration.datacomplaint": ("view", "add"),
        # Cases change only through their services (API), never by editing rows.
        **{m: ("view",) for m in CASES + TREASURY},
        **{m: ("view",) for m in NOTIFICATIONS + PORTAL},
        "frontoffice.appeal": ("view", "change"),  # officers answer citizens' appeals
    },
    Role.SUPERVISOR: {
        **{m: ("view", "add", "change", "delete") for m in PERSONAL_DATA},
        **{m: ("view",) for m in REFERENCE_DATA + ENTITLEMENTS},
        **{m: ("view", "add", "change") for m in MEASURES_CATALOGUE},
        "registries.insurer": ("view",),
        "platform_core.personalfileview": ("view",),
        "integration.datarequest": ("view",),
        "integration.datacomplaint": ("view", "add"),
        **{m: ("view", "change") for m in CASES},
        **{m: ("view",) for m in NOTIFICATIONS + TREASURY + PORTAL},
        "frontoffice.appeal": ("view", "change"),
        # Supervisors approve and send payment batches (admin actions; maker-checker).
        "treasury.paymentbatch": ("view", "change"),
        "treasury.budgetlimit": ("view", "add", "change"),
        # A measure names its establishing authority and operator.
        "platform_core.organisation": ("view",),
    },
    Role.OPERATOR: {
        **{m: ("view", "add", "change") for m in PERSONAL_DATA},
        **{m: ("view",) for m in CASES},
        **{m: ("view",) for m in REFERENCE_DATA},
    },
    Role.CONTACT_CENTRE: {
        **{m: ("view",) for m in PERSONAL_DATA + CASES + NOTIFICATIONS + PORTAL},
        **{m: ("view",) for m in REFERENCE_DATA},
    },
    Role.REFERENCE_EDITOR: {
        **{m: ("view", "add", "change") for m in REFERENCE_DATA},
        "registries.insurer": ("view", "add", "change"),
    },
    Role.PLATFORM_OPERATOR: {
        **{m: ("view", "change") for m in OPERATIONS + NOTIFICATIONS},
        # Not the data requests: what other agencies said of a person is the region's.
        **{m: ("view",) for m in REFERENCE_DATA},
        "platform_core.organisation": ("view",),
    },
    Role.AUDITOR: {
        **{
            m: ("view",)
            for m in PERSONAL_DATA
            + REFERENCE_DATA
            + OPERATIONS
            + MEASURES_CATALOGUE
            + ENTITLEMENTS
            + DATA_REQUESTS
            + CASES
            + NOTIFICATIONS
            + TREASURY
            + PORTAL
        },
        "platform_core.personalfileview": ("view",),
        "platform_core.organisation": ("view",),
    },
}


def roles_sync() -> dict[str, int]:
    """Create or update one group per staff role with its permissions; return counts."""
    counts = {}
    for role, models in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for label, actions in models.items():
            app_label, model = label.split(".")
            wanted.extend(
                Permission.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[f"{action}_{model}" for action in actions],
                )
            )
        group.permissions.set(wanted)
        counts[str(role)] = len(wanted)
    return counts


def user_role_apply(*, user) -> None:  # type: ignore[no-untyped-def]
    """Put user in the group of their role (and no other role group)."""
    role_groups = Group.objects.filter(name__in=list(ROLE_PERMISSIONS))
    user.groups.remove(*role_groups.exclude(name=user.role))
    if user.role in ROLE_PERMISSIONS:
        user.groups.add(Group.objects.get_or_create(name=user.role)[0])
