"""The emulated data providers of docs/peers.md: tax service, Social Fund, interior ministry,
education system and disability registry, one path prefix each on one server.

A request is a job keyed by its request id at its agency: answered at once (200), or, for the
slow share, accepted (202) and answered when asked again after `slow_seconds`. Complaints
are answered after `settle_seconds`.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

from emulators.peers.answers import answer, months
from emulators.peers.server import (
    Call,
    Faults,
    Invalid,
    Peer,
    Reply,
    Route,
    System,
    detail,
    digest,
    error,
    is_date,
    is_uuid,
)

# Agency code: the kinds it answers.
AGENCIES: dict[str, tuple[str, ...]] = {
    "fns": ("income",),
    "sfr": ("benefits", "pension"),
    "mvd": ("address",),
    "edu-27": ("education",),
    "fri": ("disability",),
}
PERIOD_KINDS = ("income", "benefits")
# A long demo run sends many requests: past this many, the oldest job is forgotten. Asked
# after it, the agency answers 404 and the platform sends the request again (docs/peers.md).
MAX_JOBS = 100_000
MAX_PERIOD_MONTHS = 120
SNILS_RE = re.compile(r"[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}")
MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
COMPLAINT_KINDS = ("wrong_data", "late_answer")
ANSWERS = {
    "corrected": "Сведения проверены и исправлены в ведомственной базе; направьте запрос повторно.",
    "confirmed": "Сведения проверены: ошибка не подтверждена, данные соответствуют учётным записям.",
    "late": "Задержка вызвана плановыми работами на информационной системе; сроки ответа "
    "восстановлены.",
}


@dataclass
class Job:
    """A received request: its body's digest (a repeat or a conflict?) and its answer."""

    body_digest: str
    ready_at: float
    answer: dict[str, Any]


@dataclass
class Complaint:
    """A received complaint: its body's digest, when it is answered, and the answer."""

    body_digest: str
    settles_at: float
    answer: dict[str, Any]


def request_errors(document: dict[str, Any], kinds: tuple[str, ...]) -> list[dict[str, str]]:
    """Return every fault of an inter-agency request to an agency answering kinds."""
    errors = []
    if not is_uuid(document.get("request_id")):
        errors.append(error("request_id", "Обязательное поле: идентификатор запроса (UUID)."))
    kind = document.get("kind")
    if kind not in kinds:
        errors.append(
            error(
                "kind",
                f"Ведомство не предоставляет сведения этого вида; доступны: {', '.join(kinds)}.",
            )
        )
    subject = document.get("subject")
    if not isinstance(subject, dict):
        errors.append(error("subject", "Обязательное поле: сведения о человеке (объект)."))
    else:
        if not (isinstance(subject.get("snils"), str) and SNILS_RE.fullmatch(subject["snils"])):
            errors.append(error("subject.snils", "СНИЛС обязателен, в виде 123-456-789 01."))
        for name in ("last_name", "first_name", "patronymic"):
            if subject.get(name) is not None and not isinstance(subject[name], str):
                errors.append(error(f"subject.{name}", "Должно быть строкой."))
        if subject.get("birth_date") is not None and not is_date(subject["birth_date"]):
            errors.append(error("subject.birth_date", "Дата в виде ГГГГ-ММ-ДД."))
    params = document.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        errors.append(error("params", "Параметры запроса — объект."))
    elif kind in PERIOD_KINDS:
        errors += _period_errors(params)
    return errors


def _period_errors(params: dict[str, Any]) -> list[dict[str, str]]:
    errors = [
        error(f"params.{name}", "Обязательный параметр: месяц в виде ГГГГ-ММ.")
        for name in ("from", "to")
        if not (isinstance(params.get(name), str) and MONTH_RE.fullmatch(params[name]))
    ]
    if errors:
        return errors
    if params["from"] > params["to"]:
        return [error("params", "Начало периода (from) позже его конца (to).")]
    if len(months(params["from"], params["to"])) > MAX_PERIOD_MONTHS:
        return [error("params", f"Период не длиннее {MAX_PERIOD_MONTHS} месяцев.")]
    return []


def complaint_errors(document: dict[str, Any]) -> list[dict[str, str]]:
    """Return every fault of a data-quality complaint."""
    errors = []
    if not is_uuid(document.get("complaint_id")):
        errors.append(error("complaint_id", "Обязательное поле: идентификатор жалобы (UUID)."))
    if document.get("request_id") is not None and not is_uuid(document["request_id"]):
        errors.append(error("request_id", "Идентификатор запроса (UUID) или null."))
    if document.get("kind") not in COMPLAINT_KINDS:
        errors.append(error("kind", f"Вид жалобы: {', '.join(COMPLAINT_KINDS)}."))
    text = document.get("text")
    if not (isinstance(text, str) and text.strip()):
        errors.append(error("text", "Обязательное поле: текст жалобы."))
    return errors


def complaint_answer(complaint_id: str, kind: str) -> tuple[str, bool]:
    """Return the agency's answer to a complaint and whether it corrected its data."""
    draw = hashlib.sha256(complaint_id.encode()).digest()[0] / 256
    if kind == "late_answer":
        return ANSWERS["late"], False
    corrected = draw < 0.4
    return ANSWERS["corrected" if corrected else "confirmed"], corrected


class Agencies(Peer):
    """Data providers answering inter-agency requests and complaints."""

    name = "agencies"
    slow_by_delay = False
    routes = (
        Route("POST", "requests", "request_create", "requests"),
        Route("GET", r"requests/(?P<id>[^/]+)", "request_get", "requests/{id}"),
        Route("POST", "complaints", "complaint_create", "complaints"),
        Route("GET", r"complaints/(?P<id>[^/]+)", "complaint_get", "complaints/{id}"),
    )

    def __init__(self, *, secrets: dict[str, str], faults: Faults, seed: int | None = None) -> None:
        systems = [
            System(
                code=code, prefix=f"{code}/", secret=secrets[code], faults=Faults(**vars(faults))
            )
            for code in AGENCIES
        ]
        super().__init__(systems=systems, seed=seed)
        self.jobs: dict[tuple[str, str], Job] = {}
        self.complaints: dict[tuple[str, str], Complaint] = {}

    def request_create(self, system: System, call: Call) -> Reply:
        """Answer an inter-agency request: at once, or accepted for later (the slow share)."""
        document = call.object()
        system.stats.add("requests")
        key = (system.code, str(document.get("request_id")))
        job = self.jobs.get(key)
        if job is not None:
            if job.body_digest != digest(document):
                return detail(409, "Запрос с этим request_id уже получен с другим содержимым.")
            return self._job_reply(system, job)
        errors = request_errors(document, AGENCIES[system.code])
        if errors:
            raise Invalid(errors)
        kind = document["kind"]
        system.stats.add("by_kind", kind)
        data = answer(
            kind=kind, snils=document["subject"]["snils"], params=document.get("params") or {}
        )
        reply: dict[str, Any] = {"request_id": document["request_id"]}
        reply |= {"status": "not_found"} if data is None else {"status": "answered", "data": data}
        now = time.monotonic()
        slow = self.rng.random() < system.faults.slow_share
        job = Job(digest(document), now + system.faults.slow_seconds if slow else now, reply)
        self.jobs[key] = job
        if len(self.jobs) > MAX_JOBS:
            del self.jobs[next(iter(self.jobs))]
        return self._job_reply(system, job)

    def request_get(self, system: System, call: Call) -> Reply:
        """Answer a request asked after by its id, or 404 if it never came."""
        system.stats.add("polls")
        job = self.jobs.get((system.code, call.args["id"]))
        if job is None:
            return detail(404, "Запрос с таким идентификатором не поступал.")
        return self._job_reply(system, job)

    def _job_reply(self, system: System, job: Job) -> Reply:
        if time.monotonic() < job.ready_at:
            system.stats.add("deferred")
            return Reply(202, {"request_id": job.answer["request_id"], "status": "accepted"})
        system.stats.add(job.answer["status"])
        return Reply(200, job.answer)

    def complaint_create(self, system: System, call: Call) -> Reply:
        """Accept a data-quality complaint, answered after settle_seconds."""
        document = call.object()
        key = (system.code, str(document.get("complaint_id")))
        found = self.complaints.get(key)
        accepted = {"complaint_id": document.get("complaint_id"), "status": "accepted"}
        if found is not None:
            if found.body_digest != digest(document):
                return detail(409, "Жалоба с этим complaint_id уже получена с другим содержимым.")
            return Reply(202, accepted)
        errors = complaint_errors(document)
        if errors:
            raise Invalid(errors)
        system.stats.add("complaints")
        text, corrected = complaint_answer(document["complaint_id"], document["kind"])
        self.complaints[key] = Complaint(
            body_digest=digest(document),
            settles_at=time.monotonic() + system.faults.settle_seconds,
            answer={**accepted, "status": "answered", "answer": text, "corrected": corrected},
        )
        return Reply(202, accepted)

    def complaint_get(self, system: System, call: Call) -> Reply:
        """Tell where a complaint stands: accepted, or answered."""
        found = self.complaints.get((system.code, call.args["id"]))
        if found is None:
            return detail(404, "Жалоба с таким идентификатором не поступала.")
        if time.monotonic() < found.settles_at:
            return Reply(200, {"complaint_id": call.args["id"], "status": "accepted"})
        return Reply(200, found.answer)
