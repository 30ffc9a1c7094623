from registries.models.derived import FamilyIncome, FamilyKind, FamilyMember, IncomeSeries
from registries.models.insurers import EmploymentRecord, Insurer
from registries.models.people import (
    IncomeRecord,
    LifeEvent,
    Person,
    PersonStatus,
    Relation,
)
from registries.models.reference import Bank, ClassifierItem, SubsistenceMinimum

__all__ = [
    "Bank",
    "ClassifierItem",
    "EmploymentRecord",
    "FamilyIncome",
    "FamilyKind",
    "FamilyMember",
    "IncomeRecord",
    "IncomeSeries",
    "Insurer",
    "LifeEvent",
    "Person",
    "PersonStatus",
    "Relation",
    "SubsistenceMinimum",
]
