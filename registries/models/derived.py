"""Narrow fact tables derived from the registry, kept up to date by the database itself.

The rules engine sweeps a region of a million persons in one statement; deriving each
person's family from raw relations and a year of income rows on every evaluation took most
of that time (docs/decisions.md §8, §9). These tables hold the same facts pre-joined:

- FamilyMember: who belongs to whose family, and when (the person, their spouses, their
  children, each with the dates on which the relation was active and the member alive);
- IncomeSeries: a person's income per month as running totals, so that any window of months
  is two array reads;
- FamilyIncome: a person's family over each period of constant composition, with the sum of
  its members' running incomes, so that the family's income as of a date is one row.

Nothing in Python writes them. Statement-level triggers on persons, relations and income
records recompute the rows of the persons a statement touched (migrations 0004, 0005), so every
path (services, the admin, imports, COPY, raw SQL) keeps them right. A bulk load that
switches triggers off (session_replication_role = replica) must refresh them itself, as
the population generator does. The SQL functions `registries_family_refresh(ids)`,
`registries_income_series_refresh(ids)` and `registries_family_income_refresh(ids)`
recompute them for any set of persons.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField, DateRangeField
from django.db import models
from django.utils.translation import gettext_lazy as _

from registries.models.people import Person


class FamilyKind(models.TextChoices):
    SPOUSE = "spouse", _("spouse")
    CHILD = "child", _("child")


class DateMultiRangeField(models.Field):
    """PostgreSQL's datemultirange: a set of date ranges (read as psycopg Multirange)."""

    description = "A set of date ranges"

    def db_type(self, connection) -> str:  # type: ignore[no-untyped-def]
        return "datemultirange"


def _person_key() -> models.ForeignKey:
    """A person column of a derived table: no cascade and no constraint (the person-delete
    trigger removes the rows), no index of its own (a primary key or a named index has it)."""
    return models.ForeignKey(
        Person,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )


class FamilyMember(models.Model):
    """A member of a person's family other than the person: the dates they belong to it.

    `active` holds the days on which a relation of this kind was active (valid_from through
    valid_to, both included) and the member was alive. Whether a child still counts as a
    minor depends on the date asked about, so `member_birth` is kept for the query to compare.
    """

    pk = models.CompositePrimaryKey("person_id", "member_id", "kind")
    person = _person_key()
    member = _person_key()
    kind = models.CharField(_("kind"), max_length=8, choices=FamilyKind.choices)
    member_birth = models.DateField(_("member's date of birth"))
    active = DateMultiRangeField(_("belongs on"))

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        indexes = [models.Index(fields=["member"], name="familymember_member")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.get_kind_display()} {self.member_id}"


class IncomeSeries(models.Model):
    """A person's income by month as running totals from their first recorded month.

    Month number n is year * 12 + month - 1. Element k (1-based) of `totals` is the income of
    months first_month .. first_month + k - 1 in kopecks, and of `months` the number of those
    months with at least one income record (so that "no income recorded" stays apart from a
    recorded zero). The income of months a .. b - 1 is totals[b - first] - totals[a - first],
    reading an element below 1 as 0 and one past the end as the last.
    """

    person = models.OneToOneField(
        Person,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    first_month = models.IntegerField(_("first month number"))
    totals = ArrayField(models.BigIntegerField(), verbose_name=_("running income, kopecks"))
    months = ArrayField(models.IntegerField(), verbose_name=_("running months with income"))

    class Meta:
        verbose_name = _("income series")
        verbose_name_plural = _("income series")

    def __str__(self) -> str:
        return f"{self.person_id}: {len(self.totals)} months from {self.first_month}"


class FamilyIncome(models.Model):
    """A person's family over a period of constant composition, with its running income.

    For the dates in `valid` the person's family (the person, living spouses by an active
    marriage, living children under 18 by an active parent tie) has `size` members, and
    `totals`/`months` are the sums of their IncomeSeries, month by month from `first_month`
    (empty when none of them has income). So "the family's income over months a .. b - 1 as
    of a date" is one row and two array reads; `child_births` are the children's dates of
    birth, sorted, so "children in an age band under 18 as of a date" is two binary searches
    of the same row. Periods in which the person is alone have no row: the family is then the
    person, with their own IncomeSeries.
    """

    pk = models.CompositePrimaryKey("person_id", "period")
    person = _person_key()
    period = models.SmallIntegerField(_("period number"))
    valid = DateRangeField(_("valid on"))
    size = models.SmallIntegerField(_("family size"))
    first_month = models.IntegerField(_("first month number"), null=True)
    totals = ArrayField(
        models.BigIntegerField(), null=True, verbose_name=_("running income, kopecks")
    )
    months = ArrayField(
        models.IntegerField(), null=True, verbose_name=_("running member-months with income")
    )
    child_births = ArrayField(
        models.DateField(), default=list, verbose_name=_("children's dates of birth")
    )

    class Meta:
        verbose_name = _("family income")
        verbose_name_plural = _("family incomes")

    def __str__(self) -> str:
        return f"{self.person_id} #{self.period}: {self.size}"
