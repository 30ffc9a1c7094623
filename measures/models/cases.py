"""Cases (личное дело по мере), their timeline, decisions and assignments.

A case is one person's file for one measure and one trigger (a life event, an application, a
milestone): the database holds one case per (person, measure, trigger), one decision per
case, and one running assignment per (person, measure) for periodic measures. Statuses
change only through the locking services of measures/services/cases.py, which write each
change to the case's timeline (django-fsm-2 declares what may follow what).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from measures.enums import (
    OPEN_CASE_STATUSES,
    ApplicationStatus,
    AssignmentStatus,
    CaseEntryKind,
    CaseStatus,
    Channel,
    DecisionOutcome,
    RecalculationCause,
    TriggerKind,
)
from measures.models.catalogue import Measure
from measures.models.rules import RuleVersion
from platform_core.enums import Power
from platform_core.scoping import Jurisdiction
from registries.models import LifeEvent, Person


class Case(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="cases", verbose_name=_("person")
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="cases", verbose_name=_("measure")
    )
    region = models.ForeignKey(
        "platform_core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    trigger_kind = models.CharField(_("trigger"), max_length=16, choices=TriggerKind.choices)
    trigger_key = models.CharField(
        _("trigger key"),
        max_length=100,
        help_text=_("What opened the case: life_event:<id>, application:<id>, milestone:..."),
    )
    life_event = models.ForeignKey(
        LifeEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("life event"),
    )
    as_of = models.DateField(_("rights as of"))
    status = FSMField(
        _("status"),
        max_length=16,
        choices=CaseStatus.choices,
        default=CaseStatus.OPEN,
        protected=True,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    data_complete_at = models.DateTimeField(_("all data in at"), null=True, blank=True)
    decision_due_at = models.DateTimeField(_("decision due by"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("officer"),
    )
    summary = models.TextField(_("why it stands so"), blank=True)
    refusal_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refusal proposed by"),
        help_text=_(
            "Refusing a proactive case takes two officers: one proposes, another confirms."
        ),
    )
    refusal_reason = models.TextField(_("reason for the refusal"), blank=True)

    jurisdiction = Jurisdiction(
        region="region", municipality="person__municipality", change=Power.ASSIGN_MEASURES
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "measure", "trigger_key"], name="case_once_per_trigger"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["region", "decision_due_at"],
                name="case_queue",
                condition=Q(status__in=OPEN_CASE_STATUSES),
            ),
            models.Index(fields=["life_event"], name="case_by_life_event"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.person_id} [{self.status}]"

    # The transitions; only measures/services/cases.py calls them, under the row's lock.
    @transition(field=status, source=CaseStatus.OPEN, target=CaseStatus.OFFERED)
    def offer(self) -> None: ...

    @transition(
        field=status, source=[CaseStatus.OPEN, CaseStatus.REVIEW], target=CaseStatus.WAITING_DATA
    )
    def wait_for_data(self) -> None: ...

    @transition(
        field=status,
        source=[CaseStatus.OPEN, CaseStatus.WAITING_DATA, CaseStatus.OFFERED],
        target=CaseStatus.REVIEW,
    )
    def to_review(self) -> None: ...

    @transition(field=status, source=CaseStatus.WAITING_DATA, target=CaseStatus.OPEN)
    def resume(self) -> None: ...

    @transition(
        field=status,
        source=[CaseStatus.OPEN, CaseStatus.WAITING_DATA, CaseStatus.REVIEW, CaseStatus.OFFERED],
        target=CaseStatus.DECIDED,
    )
    def decide(self) -> None: ...

    @transition(
        field=status,
        source=[CaseStatus.OPEN, CaseStatus.WAITING_DATA, CaseStatus.REVIEW],
        target=CaseStatus.NO_RIGHT,
    )
    def no_right(self) -> None: ...

    @transition(field=status, source=OPEN_CASE_STATUSES, target=CaseStatus.CLOSED)
    def close(self) -> None: ...


class CaseEntry(models.Model):
    """One line of a case's timeline, whatever the channel."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="entries", verbose_name=_("case")
    )
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("what"), max_length=16, choices=CaseEntryKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    jurisdiction = Jurisdiction(
        region="case__region",
        municipality="case__person__municipality",
        change=Power.ASSIGN_MEASURES,
    )

    class Meta:
        verbose_name = _("case timeline entry")
        verbose_name_plural = _("case timeline")
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Decision(models.Model):
    """The decision of a case: outcome, amount, period, basis, explanation, signature."""

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="decision", verbose_name=_("case")
    )
    number = models.CharField(_("number"), max_length=32, unique=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=DecisionOutcome.choices)
    amount = models.DecimalField(
        _("amount, RUB"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    period_from = models.DateField(_("from"), null=True, blank=True)
    period_to = models.DateField(_("to"), null=True, blank=True)
    legal_basis = models.TextField(_("legal basis"))
    rule_version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("rule version")
    )
    explanation = models.JSONField(_("explanation"))
    automatic = models.BooleanField(_("taken automatically"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    reason = models.TextField(_("officer's reason"), blank=True)
    decided_at = models.DateTimeField(_("decided at"))
    signed = models.JSONField(_("signed content"))
    signature = models.CharField(_("signature (Ed25519, base64)"), max_length=100)
    key_id = models.CharField(_("signing key"), max_length=32)

    jurisdiction = Jurisdiction(
        region="case__region",
        municipality="case__person__municipality",
        change=Power.ASSIGN_MEASURES,
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=DecisionOutcome.values), name="decision_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(automatic=True) | Q(decided_by__isnull=False),
                name="decision_manual_names_officer",
            ),
            models.CheckConstraint(
                condition=Q(period_to__isnull=True)
                | Q(period_from__isnull=False, period_to__gte=models.F("period_from")),
                name="decision_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.outcome}"


class Assignment(models.Model):
    """A measure assigned to a person from a date; what the treasury pays."""

    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, related_name="assignment", verbose_name=_("decision")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("person")
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("measure")
    )
    region = models.ForeignKey(
        "platform_core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    amount = models.DecimalField(
        _("amount, RUB"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    periodic = models.BooleanField(
        _("paid periodically"),
        help_text=_("A periodic measure is assigned once per person over any period."),
    )
    status = FSMField(
        _("status"),
        max_length=16,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.ACTIVE,
        protected=True,
    )
    created_at = models.DateTimeField(_("created at"))
    ended_reason = models.TextField(_("why it ended"), blank=True)

    jurisdiction = Jurisdiction(
        region="region", municipality="person__municipality", change=Power.ASSIGN_MEASURES
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-created_at"]
        constraints = [
            # One running periodic assignment per person and measure: a new period (renewal,
            # recalculation) starts once the old one is terminated. Stricter than "no
            # overlapping periods", and enforceable without btree_gist, which the embedded
            # PostgreSQL does not ship (docs/decisions.md §12).
            models.UniqueConstraint(
                fields=["person", "measure"],
                condition=Q(periodic=True) & ~Q(status=AssignmentStatus.TERMINATED),
                name="assignment_one_running_periodic",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="assignment_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.person_id} {self.active_from} [{self.status}]"

    @transition(field=status, source=AssignmentStatus.ACTIVE, target=AssignmentStatus.SUSPENDED)
    def suspend(self) -> None: ...

    @transition(field=status, source=AssignmentStatus.SUSPENDED, target=AssignmentStatus.ACTIVE)
    def resume(self) -> None: ...

    @transition(
        field=status,
        source=[AssignmentStatus.ACTIVE, AssignmentStatus.SUSPENDED],
        target=AssignmentStatus.TERMINATED,
    )
    def terminate(self) -> None: ...


class Recalculation(models.Model):
    """An assignment worked out again from a date: a corrected or cancelled life event, or
    rules changed retroactively. Opened with its case (trigger `recalculation:<assignment>:
    <cause>`); applied when that case is decided: the assignment is cut at the day before
    `effective_from` and, on a grant, replaced by a new one on the new terms. `difference` is
    what the new terms owe minus what the old ones owed from `effective_from` to `computed_to`
    (the day it was applied): arrears when positive, an overpayment when negative, for the
    treasury (docs/decisions.md §12).
    """

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.PROTECT,
        related_name="recalculations",
        verbose_name=_("assignment recalculated"),
    )
    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="recalculation", verbose_name=_("case")
    )
    cause = models.CharField(_("cause"), max_length=16, choices=RecalculationCause.choices)
    effective_from = models.DateField(_("effective from"))
    replacement = models.OneToOneField(
        Assignment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replacement assignment"),
    )
    old_amount = models.DecimalField(
        _("old amount, RUB"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    new_amount = models.DecimalField(
        _("new amount, RUB"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    difference = models.DecimalField(
        _("difference, RUB"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Arrears when positive, an overpayment when negative."),
    )
    computed_to = models.DateField(_("difference counted to"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    jurisdiction = Jurisdiction(
        region="case__region",
        municipality="case__person__municipality",
        change=Power.ASSIGN_MEASURES,
    )

    class Meta:
        verbose_name = _("recalculation")
        verbose_name_plural = _("recalculations")
        ordering = ["-created_at"]
        constraints = [
            # An assignment is replaced once: a second change recalculates its replacement.
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(applied_at__isnull=False),
                name="recalculation_applied_once",
            ),
            models.CheckConstraint(
                condition=Q(cause__in=RecalculationCause.values), name="recalculation_cause_valid"
            ),
            models.CheckConstraint(
                condition=Q(applied_at__isnull=True)
                | Q(difference__isnull=False, computed_to__isnull=False),
                name="recalculation_applied_has_difference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.cause} {self.effective_from}"


class Application(models.Model):
    """An application for a measure, by the person or their legal representative."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="applications", verbose_name=_("for whom")
    )
    applicant = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("applicant")
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="applications", verbose_name=_("measure")
    )
    region = models.ForeignKey(
        "platform_core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = FSMField(
        _("status"),
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
        protected=True,
    )
    answers = models.JSONField(_("what the applicant chose and stated"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("case"),
    )

    jurisdiction = Jurisdiction(
        region="region", municipality="person__municipality", change=Power.ASSIGN_MEASURES
    )

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        constraints = [
            # One application per measure at a time: a second one points to the first's case.
            models.UniqueConstraint(
                fields=["person", "measure"],
                condition=Q(status__in=[ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED]),
                name="application_one_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values), name="application_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.person_id} [{self.status}]"

    @transition(field=status, source=ApplicationStatus.DRAFT, target=ApplicationStatus.SUBMITTED)
    def submit(self) -> None: ...

    @transition(
        field=status,
        source=[ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED],
        target=ApplicationStatus.WITHDRAWN,
    )
    def withdraw(self) -> None: ...

    @transition(field=status, source=ApplicationStatus.SUBMITTED, target=ApplicationStatus.DONE)
    def done(self) -> None: ...
