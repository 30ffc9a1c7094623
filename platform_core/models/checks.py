"""Check constraints validated in one query.

`full_clean()` validates each check constraint of a model with a query of its own, inside a
savepoint: three statements a constraint (Django's `Q.check`). A person has six, so
registering a newborn cost eighteen statements before its INSERT. A model built on
`ChecksInOneQuery` validates all its check constraints with one SELECT, each condition a
column, and reports the same errors with the same messages and codes; the other constraints
(unique ones) are validated as Django does.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

from platform_core.batches import savepoints

logger = logging.getLogger(__name__)


class ChecksInOneQuery(models.Model):
    class Meta:
        abstract = True

    def validate_constraints(self, exclude: Any = None) -> None:
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict[str, Any] = {}
        checks: list[models.CheckConstraint] = []
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                if isinstance(constraint, models.CheckConstraint) and model_class is type(self):
                    checks.append(constraint)
                    continue
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as error:
                    if getattr(error, "code", None) == "unique" and len(constraint.fields) == 1:
                        errors.setdefault(constraint.fields[0], []).append(error)
                    else:
                        errors = error.update_error_dict(errors)
        for constraint in self._checks_failed(checks, exclude, using):
            errors = ValidationError(
                constraint.get_violation_error_message(), code=constraint.violation_error_code
            ).update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _checks_failed(
        self, checks: list[models.CheckConstraint], exclude: Any, using: str
    ) -> list[models.CheckConstraint]:
        """The check constraints this instance violates, found by one query (as Django's
        `Q.check`: a condition that is NULL holds, a constraint on an excluded field is
        skipped, a database error is logged and lets the database decide at the write)."""
        if not checks:
            return []
        query = Query(None)
        against = self._get_field_expression_map(meta=self._meta, exclude=exclude)
        for name, value in against.items():
            expression = value if hasattr(value, "resolve_expression") else Value(value)
            query.add_annotation(expression, name, select=False)
        asked: list[models.CheckConstraint] = []
        for constraint in checks:
            condition = ExpressionWrapper(Q(constraint.condition), output_field=BooleanField())
            try:
                query.add_annotation(
                    Coalesce(condition, True, output_field=BooleanField()),
                    f"_check_{len(asked)}",
                )
            except FieldError:  # it reads a field excluded from this validation
                continue
            asked.append(constraint)
        if not asked:
            return []
        connection = connections[using]
        guarded = connection.in_atomic_block and savepoints()
        context = transaction.atomic(using=using) if guarded else nullcontext()
        try:
            with context:
                row = query.get_compiler(using=using).execute_sql(SINGLE)
        except DatabaseError as error:
            if connection.in_atomic_block and not guarded:
                raise  # the transaction cannot go on: an optimistic batch fails (batches.py)
            logger.warning("Check constraints of %s not validated: %s", self._meta.label, error)
            return []
        return [constraint for constraint, held in zip(asked, row, strict=True) if not held]
