"""Reading the measures catalogue file: YAML with the place of every value kept.

The file is composed into PyYAML nodes rather than loaded into plain objects, so that every
problem (an unknown field, a bad choice, a rule that does not check) names the line and column
it is on. This module only reads and checks the file's shape and values; what the database
must hold (regions, organisations, measures referred to) is checked in catalogue.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml
from django.db import models
from django.utils.translation import gettext as _

from measures.rules import RuleInvalid, rule_check


@dataclass
class Problems:
    """The problems found in one file, each as "file, place, line, column: message"."""

    file: str
    items: list[str]

    def at(self, place: str, node: yaml.Node | None, message: str) -> None:
        if node is None:
            self.items.append(
                _("%(file)s, %(place)s: %(message)s")
                % {"file": self.file, "place": place, "message": message}
            )
            return
        self.at_position(place, node.start_mark.line + 1, node.start_mark.column + 1, message)

    def at_position(self, place: str, line: int, column: int, message: str) -> None:
        self.items.append(
            _("%(file)s, %(place)s, line %(line)d, column %(column)d: %(message)s")
            % {
                "file": self.file,
                "place": place,
                "line": line,
                "column": column,
                "message": message,
            }
        )

    def in_file(self, line: int, column: int, message: str) -> None:
        self.items.append(
            _("%(file)s, line %(line)d, column %(column)d: %(message)s")
            % {"file": self.file, "line": line, "column": column, "message": message}
        )


def compose(text: str, problems: Problems) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    """Parse text into a node tree; record a syntax error with its line and column."""
    loader = yaml.SafeLoader(text)
    try:
        return loader, loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = _("YAML syntax error: %(problem)s") % {
            "problem": " ".join(p for p in (error.context, error.problem) if p)
        }
        if mark is None:
            problems.items.append(f"{problems.file}: {message}")
        else:
            problems.in_file(mark.line + 1, mark.column + 1, message)
    except yaml.YAMLError as error:
        problems.items.append(f"{problems.file}: {error}")
    return loader, None


class Section:
    """A mapping of the file (one organisation, one measure, one channel rule) being read."""

    def __init__(
        self,
        *,
        loader: yaml.SafeLoader,
        problems: Problems,
        place: str,
        node: yaml.Node,
        prefix: str = "",
    ):
        self.loader = loader
        self.problems = problems
        self.place = place
        self.node = node
        self.prefix = prefix
        self.items: dict[str, yaml.Node] = {}
        self.valid = isinstance(node, yaml.MappingNode)
        if not self.valid:
            self.problems.at(self.where(), node, _("Expected a mapping of fields."))
            return
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is None or name == "<<":
                self.problems.at(self.where(), key, _("Expected a field name."))
            elif name in self.items:
                self.problems.at(
                    self.where(name), key, _("The field is given twice.")
                )  # PyYAML keeps the last value silently.
            else:
                self.items[name] = value

    def where(self, name: str | None = None) -> str:
        if name is None:
            return self.place if not self.prefix else f"{self.place}, {self.prefix.rstrip('.')}"
        return _("%(place)s, field %(field)s") % {
            "place": self.place,
            "field": f"{self.prefix}{name}",
        }

    def fail(self, name: str, message: str) -> None:
        self.problems.at(self.where(name), self.items.get(name, self.node), message)

    def only(self, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        """Report unknown fields and missing required ones."""
        if not self.valid:
            return
        for name, value in self.items.items():
            if name not in required and name not in optional:
                known = ", ".join((*required, *optional))
                self.problems.at(
                    self.where(name),
                    value,
                    _("Unknown field; the fields are: %(known)s.") % {"known": known},
                )
        for name in required:
            if name not in self.items:
                self.problems.at(self.where(name), self.node, _("The field is missing."))

    def value(self, name: str) -> Any:
        node = self.items.get(name)
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.fail(name, _("Expected a single value, not a list or mapping."))
            return None
        return self.loader.construct_object(node)

    def text(self, name: str, *, model: type[models.Model] | None = None) -> str:
        value = self.value(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            # YAML reads 2024, yes or 1.5 as other types; the text is what was written.
            value = self.items[name].value
        value = value.strip()
        if model is not None:
            max_length = model._meta.get_field(name).max_length
            if max_length and len(value) > max_length:
                self.fail(name, _("Longer than %(max)s characters.") % {"max": max_length})
        return value

    def choice(self, name: str, choices: type[models.TextChoices]) -> str:
        value = self.text(name)
        if value and value not in choices.values:
            self.fail(name, _bad_choice(value, choices))
        return value

    def choice_list(self, name: str, choices: type[models.TextChoices]) -> list[str]:
        result = []
        for node, value in self.list_of_texts(name):
            if value not in choices.values:
                self.problems.at(self.where(name), node, _bad_choice(value, choices))
            elif value in result:
                self.problems.at(self.where(name), node, _("The value is listed twice."))
            else:
                result.append(value)
        return result

    def list_of_texts(self, name: str) -> list[tuple[yaml.Node, str]]:
        node = self.items.get(name)
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.fail(name, _("Expected a list."))
            return []
        result = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and item.value.strip():
                result.append((item, item.value.strip()))
            else:
                self.problems.at(self.where(name), item, _("Expected a single value."))
        return result

    def sections(self, name: str) -> list[Section]:
        """The mappings of a list field, each read as a section of its own."""
        node = self.items.get(name)
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.fail(name, _("Expected a list."))
            return []
        return [
            Section(
                loader=self.loader,
                problems=self.problems,
                place=self.place,
                node=item,
                prefix=f"{self.prefix}{name}[{index}].",
            )
            for index, item in enumerate(node.value, start=1)
        ]

    def section(self, name: str) -> Section | None:
        node = self.items.get(name)
        if node is None:
            return None
        return Section(
            loader=self.loader,
            problems=self.problems,
            place=self.place,
            node=node,
            prefix=f"{self.prefix}{name}.",
        )

    def date(self, name: str) -> date | None:
        value = self.value(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.fail(name, _("Enter a valid date as YYYY-MM-DD."))
        return None

    def period(self) -> tuple[date | None, date | None]:
        valid_from, valid_to = self.date("valid_from"), self.date("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            self.fail("valid_to", _("The end of the period is before its start."))
        return valid_from, valid_to

    def boolean(self, name: str) -> bool:
        value = self.value(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(name, _("Enter true or false."))
            return False
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.value(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.fail(
                name,
                _("Enter a whole number from %(low)s to %(high)s.")
                % {"low": minimum, "high": maximum},
            )
            return default
        return value

    def rule(self, name: str, expect: str) -> str:
        """The rule text of a field, checked; each problem is placed in the file if it can be."""
        text = self.text(name)
        if not text:
            return ""
        try:
            rule_check(text, expect=expect)
        except RuleInvalid as exc:
            node = self.items[name]
            for problem in exc.problems:
                position = _position_in_file(node, problem.line, problem.column)
                if position is None:
                    self.problems.at(
                        self.where(name),
                        node,
                        _("line %(line)d, column %(column)d of the rule: %(message)s")
                        % {
                            "line": problem.line,
                            "column": problem.column,
                            "message": problem.message,
                        },
                    )
                else:
                    self.problems.at_position(self.where(name), *position, problem.message)
        return text


def _bad_choice(value: str, choices: type[models.TextChoices]) -> str:
    return _("%(value)s is not one of: %(choices)s.") % {
        "value": value,
        "choices": ", ".join(choices.values),
    }


def _position_in_file(node: yaml.Node, line: int, column: int) -> tuple[int, int] | None:
    """Where a rule's line and column are in the file, or None for a folded or wrapped text.

    A literal block (`|`) keeps the rule's lines as they are, indented; a one-line scalar
    keeps its columns after the opening quote. Leading blank lines of a block count, and the
    text was stripped only at its ends, so lines after the first keep their numbers.
    """
    start = node.start_mark
    if node.style == "|":
        source = start.buffer.splitlines() if start.buffer else []
        # The rule text was stripped: skip the block's leading blank lines.
        first = start.line + 1
        while first < len(source) and not source[first].strip():
            first += 1
        if first >= len(source):
            return None
        indent = len(source[first]) - len(source[first].lstrip(" "))
        return first + line, indent + column
    if start.line == node.end_mark.line and line == 1:
        quote = 1 if node.style in ("'", '"') else 0
        offset = len(node.value) - len(node.value.lstrip())
        return start.line + 1, start.column + quote + offset + column
    return None
