from platform_core.models.audit import PersonalFileView
from platform_core.models.calendar import CalendarDay
from platform_core.models.checks import ChecksInOneQuery
from platform_core.models.events import EventDelivery, OutboxEvent
from platform_core.models.organisations import Municipality, Organisation, Region, User

__all__ = [
    "CalendarDay",
    "ChecksInOneQuery",
    "EventDelivery",
    "Municipality",
    "Organisation",
    "OutboxEvent",
    "PersonalFileView",
    "Region",
    "User",
]
