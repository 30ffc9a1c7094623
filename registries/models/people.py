"""The registry of service recipients (реестр получателей услуг) and what is known of them."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from platform_core.models import ChecksInOneQuery, Municipality, Region
from platform_core.scoping import Jurisdiction
from platform_core.validators import (
    validate_account_for_bic,
    validate_bic,
    validate_mir_card,
    validate_snils,
)
from registries.enums import (
    DisabilityGroup,
    IncomeKind,
    LifeEventKind,
    LifeEventStatus,
    NotificationChannel,
    RelationBasis,
    RelationKind,
    Sex,
    StatusKind,
)

SNILS_CANONICAL = r"^[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}$"


class Person(ChecksInOneQuery):
    """A person known to the platform, keyed by SNILS where one is assigned.

    The internal id is stable from birth: a newborn is registered before a SNILS exists.
    """

    # NULL, not "", for "no SNILS yet": the unique constraint must ignore every newborn.
    snils = models.CharField(  # noqa: DJ001
        _("SNILS"),
        max_length=14,
        null=True,
        blank=True,
        validators=[validate_snils],
        help_text=_("Insurance number in the form 123-456-789 01."),
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    citizenship = models.CharField(
        _("citizenship"), max_length=3, default="RUS", help_text=_("ISO 3166 alpha-3 code.")
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region of registration")
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    address = models.CharField(_("registered address"), max_length=300, blank=True)
    fias_guid = models.UUIDField(_("FIAS address id"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    bank_bic = models.CharField(_("bank BIC"), max_length=9, blank=True, validators=[validate_bic])
    bank_account = models.CharField(_("bank account"), max_length=20, blank=True)
    bank_card = models.CharField(
        _("Mir card"),
        max_length=19,
        blank=True,
        default="",
        db_default="",
        validators=[validate_mir_card],
        help_text=_("Payments go to the card where there is one, else to the account."),
    )
    consent_proactive = models.BooleanField(
        _("consents to proactive assignment"),
        default=True,
        help_text=_("Measures may be assigned on a life event without an application."),
    )
    notification_channels = ArrayField(
        models.CharField(max_length=8, choices=NotificationChannel.choices),
        default=list,
        blank=True,
        verbose_name=_("notification channels consented to"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    jurisdiction = Jurisdiction(region="region", municipality="municipality")

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["snils"], condition=Q(snils__isnull=False), name="person_snils_unique"
            ),
            models.CheckConstraint(
                condition=Q(snils__isnull=True) | Q(snils__regex=SNILS_CANONICAL),
                name="person_snils_canonical",
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="person_sex_valid"),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(death_date__gte=F("birth_date")),
                name="person_death_after_birth",
            ),
            models.CheckConstraint(
                condition=Q(citizenship__regex=r"^[A-Z]{3}$"), name="person_citizenship_iso"
            ),
            models.CheckConstraint(
                condition=(Q(bank_bic="") & Q(bank_account=""))
                | (Q(bank_bic__regex=r"^04[0-9]{7}$") & Q(bank_account__regex=r"^[0-9]{20}$")),
                name="person_bank_details_complete",
            ),
            models.CheckConstraint(
                condition=Q(bank_card="") | Q(bank_card__regex=r"^220[0-4][0-9]{12,15}$"),
                name="person_bank_card_mir",
            ),
        ]
        indexes = [
            models.Index(fields=["region", "birth_date"]),
            models.Index(fields=["last_name", "first_name", "birth_date"]),
            # Matching a person named by another agency: case-insensitive name and birth date.
            models.Index(
                Upper("last_name"), Upper("first_name"), "birth_date", name="person_name_birth_ci"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    def clean(self) -> None:
        errors = {}
        if self.snils and Person.objects.filter(snils=self.snils).exclude(pk=self.pk).exists():
            errors["snils"] = _("A person with this SNILS is already registered.")
        if self.death_date and self.birth_date and self.death_date < self.birth_date:
            errors["death_date"] = _("The date of death cannot be before the date of birth.")
        if bool(self.bank_bic) != bool(self.bank_account):
            field = "bank_account" if self.bank_bic else "bank_bic"
            errors[field] = _("Give both the BIC and the account number, or neither.")
        elif self.bank_bic and self.bank_account and "bank_bic" not in errors:
            try:
                validate_account_for_bic(self.bank_account, self.bank_bic)
            except ValidationError as exc:
                errors["bank_account"] = exc.messages
        if errors:
            raise ValidationError(errors)


class Relation(ChecksInOneQuery):
    """A family or legal tie between two persons over a period.

    parent: from_person is the parent of to_person; spouse: from and to are spouses (marriage
    to divorce); representative: from_person is the legal representative of to_person.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=RelationKind.choices)
    basis = models.CharField(_("basis"), max_length=16, choices=RelationBasis.choices)
    from_person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="relations_from", verbose_name=_("from")
    )
    to_person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="relations_to", verbose_name=_("to")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    document = models.CharField(_("basis document"), max_length=200, blank=True)

    history = HistoricalRecords()
    jurisdiction = Jurisdiction(region="to_person__region", municipality="to_person__municipality")

    class Meta:
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_person=F("to_person")), name="relation_not_self"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="relation_period_ordered",
            ),
            models.CheckConstraint(condition=Q(kind__in=RelationKind.values), name="relation_kind"),
            models.CheckConstraint(
                condition=Q(basis__in=RelationBasis.values), name="relation_basis"
            ),
            models.UniqueConstraint(
                fields=["kind", "from_person", "to_person", "valid_from"], name="relation_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["from_person", "kind"]),
            models.Index(fields=["to_person", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_person_id} → {self.to_person_id}"

    def clean(self) -> None:
        if not (self.from_person_id and self.to_person_id and self.valid_from):
            return
        errors = {}
        parent, child = self.from_person, self.to_person
        if self.kind == RelationKind.PARENT and parent.birth_date >= child.birth_date:
            errors["to_person"] = _("A child cannot be born before its parent.")
        for person in (parent, child):
            if self.valid_from < person.birth_date and self.kind != RelationKind.PARENT:
                errors["valid_from"] = _("The relation cannot start before %(name)s was born.") % {
                    "name": person.full_name
                }
        if self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = _("The end of the relation cannot be before its start.")
        if errors:
            raise ValidationError(errors)


class LifeEvent(ChecksInOneQuery):
    """A life event with the date it happened and the date the platform learned of it.

    A correction is a new row pointing at the row it corrects; the corrected row stays, marked
    corrected, so a recalculation can see what was known when.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=LifeEventKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="life_events", verbose_name=_("person")
    )
    occurred_on = models.DateField(_("occurred on"))
    learned_at = models.DateTimeField(_("learned at"))
    source_system = models.CharField(_("source system"), max_length=50)
    source_event_id = models.CharField(_("source event id"), max_length=64)
    act_number = models.CharField(_("act record number"), max_length=32, blank=True)
    act_date = models.DateField(_("act record date"), null=True, blank=True)
    act_office = models.CharField(_("registry office"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=LifeEventStatus.choices, default=LifeEventStatus.ACTIVE
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    history = HistoricalRecords()
    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["-occurred_on", "-learned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "source_event_id", "person"],
                name="life_event_once_per_source_and_person",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=LifeEventKind.values), name="life_event_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=LifeEventStatus.values), name="life_event_status"
            ),
        ]
        indexes = [models.Index(fields=["person", "kind", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on:%d.%m.%Y}"


class PersonStatus(ChecksInOneQuery):
    """A status with a validity period: disability, large family, low income, pensioner..."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="statuses", verbose_name=_("person")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=StatusKind.choices)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    disability_group = models.CharField(
        _("disability group"), max_length=8, choices=DisabilityGroup.choices, blank=True
    )
    from_childhood = models.BooleanField(_("disabled from childhood"), default=False)
    source = models.CharField(_("source"), max_length=50)
    basis = models.CharField(_("basis document"), max_length=200, blank=True)

    history = HistoricalRecords()
    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=StatusKind.values), name="status_kind"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="status_period_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=StatusKind.DISABILITY) & Q(disability_group__in=DisabilityGroup.values)
                )
                | (~Q(kind=StatusKind.DISABILITY) & Q(disability_group="")),
                name="status_disability_group_iff_disability",
            ),
        ]
        indexes = [models.Index(fields=["person", "kind", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.valid_from:%d.%m.%Y}–{self.valid_to or '…'}"


class IncomeRecord(models.Model):
    """Income of a person for one month from one source (for means tests)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="incomes", verbose_name=_("person")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=IncomeKind.choices)
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("amount, RUB"), max_digits=14, decimal_places=2)
    payer_inn = models.CharField(_("payer INN"), max_length=12, blank=True)
    source = models.CharField(_("source"), max_length=50)

    history = HistoricalRecords()
    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("income record")
        verbose_name_plural = _("income records")
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="income_month_first_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="income_amount_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=IncomeKind.values), name="income_kind"),
        ]
        indexes = [models.Index(fields=["person", "month"])]

    def __str__(self) -> str:
        return f"{self.month:%m.%Y} {self.amount}"
