"""Loading the catalogue of social support measures from a YAML file (measures/data/).

The file lists the organisations the measures refer to (establishing authorities and
operators, matched to the database by name) and the measures (by code) with their legal
basis, channel policies, transfers of the function and rules. Everything is checked first,
the file against itself and then against the database; any problem refuses the whole load,
listing each as "catalogue.yaml, measure CODE, field F, line L, column C: what is wrong",
and nothing is written. A good file is upserted in one transaction: a second load of the
same file changes nothing.

Rows the file does not list (measures, channel policies, transfers made in the back office)
are left alone. Published rules are never edited: when a measure's rule text differs from its
latest published version, a new version is published, in force from the file's `valid_from`
of the rules if that is later than the current version's start, else from `as_of` (the day
of the load), and the current version is closed the day before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from measures.enums import (
    ApplicantRole,
    AssignmentMode,
    Channel,
    DataKind,
    MeasureLevel,
    PayeeRole,
    ProvisionKind,
    RuleStatus,
)
from measures.models import ChannelPolicy, FunctionTransfer, Measure, RuleVersion
from measures.models.catalogue import MEASURE_CODE
from measures.models.rules import RULE_FIELDS
from measures.services.catalogue_file import Problems, Section, compose
from platform_core.enums import OrganisationKind, Power
from platform_core.errors import DomainError
from platform_core.models import Municipality, Organisation, Region
from registries.enums import LifeEventKind

__all__ = ["CATALOGUE_FILE", "CatalogueInvalid", "CatalogueSummary", "LoadCounts", "catalogue_load"]

CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "data" / "catalogue.yaml"

KIND_LABELS = {
    "organisations": gettext_lazy("organisations"),
    "measures": gettext_lazy("measures"),
    "transfers": gettext_lazy("function transfers"),
    "channel_policies": gettext_lazy("channel policies"),
    "rule_versions": gettext_lazy("rule versions"),
}
WITHOUT_AMOUNT = {ProvisionKind.STATUS_DOCUMENT, ProvisionKind.SERVICE, ProvisionKind.IN_KIND}
MAX_DECISION_DAYS = 365
# Serialises concurrent loads: each compares with what the other may be writing.
_LOCK_KEY = 7_714_201


class CatalogueInvalid(DomainError):
    """The catalogue file has problems; `problems` lists every one with its place."""

    code = "catalogue_invalid"

    def __init__(self, problems: list[str]):
        super().__init__(
            _("The measures catalogue was not loaded: %(count)s problem(s).")
            % {"count": len(problems)}
        )
        self.problems = problems


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class CatalogueSummary:
    # Kind (a key of KIND_LABELS) -> counts, in load order.
    counts: dict[str, LoadCounts] = field(
        default_factory=lambda: {kind: LoadCounts() for kind in KIND_LABELS}
    )

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())


@dataclass
class _Organisation:
    key: str
    section: Section
    name: str
    values: dict[str, Any]


@dataclass
class _Measure:
    code: str
    section: Section
    values: dict[str, Any]
    authority: str
    operator: str
    excludes: list[tuple[yaml.Node, str]]
    capped_with: list[tuple[yaml.Node, str]]
    channels: list[dict[str, Any]]
    transfers: list[tuple[str, dict[str, Any]]]
    rules: dict[str, str]
    rules_from: date | None
    rules_note: str
    rules_section: Section | None


@dataclass
class _Catalogue:
    organisations: dict[str, _Organisation] = field(default_factory=dict)
    measures: dict[str, _Measure] = field(default_factory=dict)


def _entries(root: Section, name: str) -> list[tuple[str, yaml.Node]]:
    node = root.items.get(name)
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        root.fail(name, _("Expected a mapping of entries by code."))
        return []
    result, seen = [], set()
    for key, value in node.value:
        code = key.value.strip() if isinstance(key, yaml.ScalarNode) else ""
        if not code:
            root.problems.at(root.where(name), key, _("Expected a code."))
        elif code in seen:
            root.problems.at(
                root.where(name), key, _("The code %(code)s is given twice.") % {"code": code}
            )
        else:
            seen.add(code)
            result.append((code, value))
    return result


def _read_organisation(key: str, section: Section) -> _Organisation:
    section.only(required=("name", "kind"), optional=("short_name", "region", "powers"))
    values: dict[str, Any] = {
        "kind": section.choice("kind", OrganisationKind),
        "region_id": section.text("region") or None,
    }
    if "short_name" in section.items:
        values["short_name"] = section.text("short_name", model=Organisation)
    if "powers" in section.items:
        values["powers"] = section.choice_list("powers", Power)
    if not section.text("name"):
        section.fail("name", _("The value is missing."))
    return _Organisation(key, section, section.text("name", model=Organisation), values)


def _read_measure(code: str, section: Section, catalogue: _Catalogue) -> _Measure:
    section.only(
        required=(
            "name",
            "legal_act",
            "level",
            "establishing_authority",
            "operator",
            "provision",
            "payee_role",
            "mode",
            "valid_from",
            "rules",
        ),
        optional=(
            "description",
            "legal_act_date",
            "legal_article",
            "region",
            "municipality",
            "trigger_events",
            "data_kinds",
            "decision_days",
            "valid_to",
            "excludes",
            "capped_with",
            "is_demo",
            "demo_note",
            "channels",
            "transfers",
        ),
    )
    if len(code) > Measure._meta.get_field("code").max_length or not MEASURE_CODE.regex.match(code):
        section.problems.at(section.place, section.node, str(MEASURE_CODE.message))
    valid_from, valid_to = section.period()
    values: dict[str, Any] = {
        "name": section.text("name", model=Measure),
        "description": section.text("description"),
        "legal_act": section.text("legal_act", model=Measure),
        "legal_act_date": section.date("legal_act_date"),
        "legal_article": section.text("legal_article", model=Measure),
        "level": section.choice("level", MeasureLevel),
        "region_id": section.text("region") or None,
        "municipality_id": section.text("municipality") or None,
        "provision": section.choice("provision", ProvisionKind),
        "payee_role": section.choice("payee_role", PayeeRole),
        "mode": section.choice("mode", AssignmentMode),
        "trigger_events": section.choice_list("trigger_events", LifeEventKind),
        "data_kinds": section.choice_list("data_kinds", DataKind),
        "decision_days": section.integer(
            "decision_days", default=2, minimum=1, maximum=MAX_DECISION_DAYS
        ),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "is_demo": section.boolean("is_demo"),
        "demo_note": section.text("demo_note", model=Measure),
    }
    for name in ("name", "legal_act"):
        if name in section.items and not values[name]:
            section.fail(name, _("The value is missing."))
    if values["is_demo"] and not values["demo_note"]:
        section.fail("is_demo", _("Say in demo_note what is demo."))
    _check_territory(section, values)
    authority, operator = section.text("establishing_authority"), section.text("operator")
    for name, key in (("establishing_authority", authority), ("operator", operator)):
        _check_organisation(section, name, key, catalogue, values["region_id"])
    measure = _Measure(
        code=code,
        section=section,
        values=values,
        authority=authority,
        operator=operator,
        excludes=section.list_of_texts("excludes"),
        capped_with=section.list_of_texts("capped_with"),
        channels=_read_channels(section),
        transfers=[],
        rules={},
        rules_from=None,
        rules_note="",
        rules_section=section.section("rules"),
    )
    for transfer in section.sections("transfers"):
        transfer.only(required=("operator", "agreement", "valid_from"), optional=("valid_to",))
        start, end = transfer.period()
        key = transfer.text("operator")
        _check_organisation(transfer, "operator", key, catalogue, values["region_id"])
        if start in {t[1]["valid_from"] for t in measure.transfers}:
            transfer.fail("valid_from", _("Another transfer starts on the same day."))
        agreement = transfer.text("agreement", model=FunctionTransfer)
        if not agreement:
            transfer.fail("agreement", _("The value is missing."))
        measure.transfers.append(
            (key, {"agreement": agreement, "valid_from": start, "valid_to": end})
        )
    _read_rules(measure)
    return measure


def _check_territory(section: Section, values: dict[str, Any]) -> None:
    level, region = values["level"], values["region_id"]
    if level == MeasureLevel.FEDERAL and region:
        section.fail("region", _("A federal measure has no region."))
    if level in (MeasureLevel.REGIONAL, MeasureLevel.MUNICIPAL) and not region:
        section.fail("region", _("A regional or municipal measure needs its region."))
    if level == MeasureLevel.MUNICIPAL and not values["municipality_id"]:
        section.fail("municipality", _("A municipal measure needs its municipality."))
    if level != MeasureLevel.MUNICIPAL and values["municipality_id"]:
        section.fail("municipality", _("Only a municipal measure has a municipality."))


def _check_organisation(
    section: Section, name: str, key: str, catalogue: _Catalogue, region: str | None
) -> None:
    if not key:
        return  # Missing: reported by only().
    organisation = catalogue.organisations.get(key)
    if organisation is None:
        section.fail(
            name,
            _("Unknown organisation %(key)s; the file's organisations are: %(known)s.")
            % {"key": key, "known": ", ".join(catalogue.organisations)},
        )
    elif organisation.values["region_id"] not in (None, region):
        section.fail(
            name,
            _("The organisation %(key)s works in region %(region)s, not in the measure's.")
            % {"key": key, "region": organisation.values["region_id"]},
        )


def _read_channels(section: Section) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for policy in section.sections("channels"):
        policy.only(required=("applicant_role", "channels", "valid_from"), optional=("valid_to",))
        start, end = policy.period()
        values = {
            "applicant_role": policy.choice("applicant_role", ApplicantRole),
            "channels": policy.choice_list("channels", Channel),
            "valid_from": start,
            "valid_to": end,
        }
        if "channels" in policy.items and not values["channels"]:
            policy.fail("channels", _("List at least one channel."))
        for other in result:
            if other["applicant_role"] == values["applicant_role"] and _overlap(other, values):
                policy.fail(
                    "valid_from",
                    _("The period overlaps another policy of the same applicant from %(date)s.")
                    % {"date": other["valid_from"]},
                )
        result.append(values)
    return result


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["valid_from"] is None or b["valid_from"] is None:
        return False
    return (b["valid_to"] is None or a["valid_from"] <= b["valid_to"]) and (
        a["valid_to"] is None or b["valid_from"] <= a["valid_to"]
    )


def _read_rules(measure: _Measure) -> None:
    rules = measure.rules_section
    if rules is None:
        return
    rules.only(
        required=("eligibility",), optional=("valid_from", "amount", "period_months", "note")
    )
    measure.rules = {name: rules.rule(name, expect) for name, expect in RULE_FIELDS.items()}
    measure.rules_from = rules.date("valid_from")
    measure.rules_note = rules.text("note")
    if measure.values["provision"].startswith("cash_") and not measure.rules["amount"]:
        rules.fail("amount", _("A cash payment needs an amount rule."))
    if measure.values["provision"] in WITHOUT_AMOUNT and measure.rules["amount"]:
        rules.fail("amount", _("A measure provided in kind has no amount."))


def _read(text: str, problems: Problems) -> _Catalogue:
    catalogue = _Catalogue()
    loader, node = compose(text, problems)
    if node is None:
        if not problems.items:
            problems.items.append(f"{problems.file}: " + _("The file is empty."))
        return catalogue
    root = Section(loader=loader, problems=problems, place=problems.file, node=node)
    if not root.valid:
        return catalogue
    root.only(required=("organisations", "measures"))
    for key, value in _entries(root, "organisations"):
        place = _("organisation %(key)s") % {"key": key}
        section = Section(loader=loader, problems=problems, place=place, node=value)
        if section.valid:
            catalogue.organisations[key] = _read_organisation(key, section)
    names: dict[str, str] = {}
    for key, organisation in catalogue.organisations.items():
        if organisation.name in names:
            organisation.section.fail(
                "name",
                _("Organisation %(key)s has the same name.") % {"key": names[organisation.name]},
            )
        names.setdefault(organisation.name, key)
    for code, value in _entries(root, "measures"):
        place = _("measure %(code)s") % {"code": code}
        section = Section(loader=loader, problems=problems, place=place, node=value)
        if section.valid:
            catalogue.measures[code] = _read_measure(code, section, catalogue)
    return catalogue


def _check_database(catalogue: _Catalogue, as_of: date) -> dict[str, tuple[int, date] | None]:
    """Check what the file refers to in the database; plan each measure's new rule version.

    Returns, per measure code, (version number, in force from) of a rule version to publish,
    or None when the latest published version already has the file's rules.
    """
    regions = set(Region.objects.values_list("code", flat=True))
    municipalities = dict(Municipality.objects.values_list("oktmo", "region_id"))
    for organisation in catalogue.organisations.values():
        region = organisation.values["region_id"]
        if region and region not in regions:
            organisation.section.fail("region", _unknown_region(region))
        if Organisation.objects.filter(name=organisation.name).count() > 1:
            organisation.section.fail(
                "name", _("Several organisations in the database have this name.")
            )
    stored_codes = set(Measure.objects.values_list("code", flat=True))
    plans: dict[str, tuple[int, date] | None] = {}
    for measure in catalogue.measures.values():
        section, values = measure.section, measure.values
        region, municipality = values["region_id"], values["municipality_id"]
        if region and region not in regions:
            section.fail("region", _unknown_region(region))
        if municipality and municipalities.get(municipality) != region:
            section.fail(
                "municipality",
                _("Unknown municipality %(code)s in region %(region)s.")
                % {"code": municipality, "region": region},
            )
        for name in ("excludes", "capped_with"):
            for node, code in getattr(measure, name):
                if code == measure.code:
                    section.problems.at(
                        section.where(name), node, _("A measure cannot refer to itself.")
                    )
                elif code not in catalogue.measures and code not in stored_codes:
                    section.problems.at(
                        section.where(name), node, _("Unknown measure %(code)s.") % {"code": code}
                    )
        if measure.rules_section is not None:
            plans[measure.code] = _rule_plan(measure, as_of)
    return plans


def _unknown_region(code: str) -> str:
    return _("Unknown region %(code)s (load the reference data first).") % {"code": code}


def _rule_plan(measure: _Measure, as_of: date) -> tuple[int, date] | None:
    versions = list(RuleVersion.objects.filter(measure__code=measure.code).order_by("-version"))
    published = next((v for v in versions if v.status == RuleStatus.PUBLISHED), None)
    next_number = versions[0].version + 1 if versions else 1
    if published is None:
        return next_number, measure.rules_from or measure.values["valid_from"]
    if all(getattr(published, name) == text for name, text in measure.rules.items()):
        return None
    start = measure.rules_from
    if start is None or start <= published.valid_from:
        start = as_of
    if start <= published.valid_from:
        assert measure.rules_section is not None
        measure.rules_section.fail(
            "valid_from",
            _(
                "The rules changed, so they need a date later than %(date)s, when version "
                "%(version)s came into force."
            )
            % {"date": published.valid_from, "version": published.version},
        )
    return next_number, start


def _upsert_organisations(catalogue: _Catalogue, counts: LoadCounts) -> dict[str, Organisation]:
    result = {}
    for key, entry in catalogue.organisations.items():
        organisation = Organisation.objects.filter(name=entry.name).first()
        if organisation is None:
            result[key] = Organisation.objects.create(name=entry.name, **entry.values)
            counts.created += 1
            continue
        result[key] = organisation
        if _assign(organisation, entry.values):
            organisation.save(update_fields=list(entry.values))
            counts.updated += 1
        else:
            counts.unchanged += 1
    return result


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set values on obj; return whether any differed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _links(catalogue: _Catalogue, name: str) -> dict[str, set[str]]:
    """Each file measure's partners in a symmetric relation, as the file states it."""
    links: dict[str, set[str]] = {code: set() for code in catalogue.measures}
    for code, measure in catalogue.measures.items():
        for _node, other in getattr(measure, name):
            links[code].add(other)
            links.setdefault(other, set()).add(code)
    return links


def _write(
    catalogue: _Catalogue, plans: dict[str, tuple[int, date] | None], summary: CatalogueSummary
) -> None:
    counts = summary.counts
    organisations = _upsert_organisations(catalogue, counts["organisations"])
    measures: dict[str, Measure] = {}
    created: set[str] = set()
    changed: set[str] = set()
    for code, entry in catalogue.measures.items():
        values = {
            **entry.values,
            "establishing_authority_id": organisations[entry.authority].pk,
            "operator_id": organisations[entry.operator].pk,
        }
        measure = Measure.objects.filter(code=code).first()
        if measure is None:
            measures[code] = Measure.objects.create(code=code, **values)
            created.add(code)
            continue
        measures[code] = measure
        if _assign(measure, values):
            measure.save()
            changed.add(code)
    for name in ("excludes", "capped_with"):
        wanted = _links(catalogue, name)
        for code, partners in wanted.items():
            measure = measures.get(code) or Measure.objects.get(code=code)
            current = set(getattr(measure, name).values_list("code", flat=True))
            # Links to measures the file does not list were made elsewhere: kept.
            target = partners | {c for c in current if c not in catalogue.measures}
            if target != current:
                getattr(measure, name).set(Measure.objects.filter(code__in=target))
                if code in catalogue.measures and code not in created:
                    changed.add(code)
    counts["measures"] = LoadCounts(
        created=len(created),
        updated=len(changed),
        unchanged=len(catalogue.measures) - len(created) - len(changed),
    )
    for code, entry in catalogue.measures.items():
        measure = measures[code]
        for key, values in entry.transfers:
            _upsert_row(
                FunctionTransfer,
                {"measure": measure, "valid_from": values["valid_from"]},
                {"operator_id": organisations[key].pk, **values},
                counts["transfers"],
            )
        for values in entry.channels:
            _upsert_row(
                ChannelPolicy,
                {
                    "measure": measure,
                    "applicant_role": values["applicant_role"],
                    "valid_from": values["valid_from"],
                },
                values,
                counts["channel_policies"],
            )
        _publish_rules(measure, entry, plans.get(code), counts["rule_versions"])


def _upsert_row(
    model: Any, key: dict[str, Any], values: dict[str, Any], counts: LoadCounts
) -> None:
    obj = model.objects.filter(**key).first()
    if obj is None:
        model.objects.create(**{**key, **values})
        counts.created += 1
    elif _assign(obj, values):
        obj.save()
        counts.updated += 1
    else:
        counts.unchanged += 1


def _publish_rules(
    measure: Measure, entry: _Measure, plan: tuple[int, date] | None, counts: LoadCounts
) -> None:
    if entry.rules_section is None:
        return
    if plan is None:
        counts.unchanged += 1
        return
    number, start = plan
    current = (
        RuleVersion.objects.select_for_update()
        .filter(measure=measure, status=RuleStatus.PUBLISHED)
        .order_by("-version")
        .first()
    )
    if current is not None and (current.valid_to is None or current.valid_to >= start):
        # Only the end of the old version's period moves; its rules stay as published.
        current.valid_to = start - timedelta(days=1)
        current.save(update_fields=["valid_to"])
    RuleVersion.objects.create(
        measure=measure,
        version=number,
        status=RuleStatus.PUBLISHED,
        valid_from=start,
        valid_to=measure.valid_to,
        note=entry.rules_note,
        published_at=timezone.now(),
        **entry.rules,
    )
    counts.created += 1


def catalogue_load(*, path: Path = CATALOGUE_FILE, as_of: date | None = None) -> CatalogueSummary:
    """Check the catalogue file and load it, all or nothing; return what changed.

    Raises CatalogueInvalid, listing every problem with its place and writing nothing, if
    the file cannot be read, does not parse, or any entry or rule is wrong.
    """
    as_of = as_of or timezone.localdate()
    problems = Problems(path.name, [])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueInvalid([f"{path}: " + _("The file is missing.")]) from None
    except UnicodeDecodeError:
        raise CatalogueInvalid([f"{path.name}: " + _("The file is not UTF-8 text.")]) from None
    catalogue = _read(text, problems)
    if problems.items:
        raise CatalogueInvalid(problems.items)
    summary = CatalogueSummary()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        plans = _check_database(catalogue, as_of)
        if problems.items:
            raise CatalogueInvalid(problems.items)
        _write(catalogue, plans, summary)
    return summary
