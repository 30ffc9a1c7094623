"""What every emulated peer shares: signed requests, injected faults, `_control` and `_stats`.

A peer is one HTTP server (a separate process, `manage.py peer`) holding one or more systems
of other agencies, each under its own path prefix with its own signing secret, faults and
counters (the agencies server holds five; the bank and the register one each, at the root).
Its state lives in memory behind one lock: the handlers are quick, and a peer is a test and
demo tool, not a load target.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from integration.signing import signature

SIGNATURE_MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024 * 1024
DOCUMENT = "(document)"


@dataclass
class Faults:
    """How unreliable a system is, and how long its settlements take (`_control`)."""

    error_share: float = 0.0
    slow_share: float = 0.0
    slow_seconds: float = 3.0
    down: bool = False
    settle_seconds: float = 5.0


@dataclass(frozen=True)
class Reply:
    """An answer: status and JSON body; `delay` seconds are waited before it is written."""

    status: int
    body: Any = None
    delay: float = 0.0


# Close the connection without answering (a peer that is down).
DROP = Reply(0)


class Invalid(Exception):
    """The request is wrong; `errors` name each fault (answered with 400)."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(errors)
        self.errors = errors


def error(field_name: str, message: str, **extra: Any) -> dict[str, Any]:
    """Return one entry of a 400 answer's `errors`."""
    return {**extra, "field": field_name, "message": message}


def detail(status: int, message: str) -> Reply:
    """Return an answer of `{"detail": message}`."""
    return Reply(status, {"detail": message})


def canonical(document: Any) -> str:
    """Return a document as JSON with sorted keys: equal documents give equal text."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(document: Any) -> str:
    """Return the SHA-256 of a document's canonical text: what a repeat is compared by."""
    return hashlib.sha256(canonical(document).encode()).hexdigest()


def is_uuid(value: Any) -> bool:
    """Tell whether value is a UUID in its text form."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def is_date(value: Any) -> bool:
    """Tell whether value is a date written YYYY-MM-DD."""
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass
class Call:
    """One request as a route handler sees it: below its system's prefix."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    args: dict[str, str] = field(default_factory=dict)

    def document(self) -> Any:
        """Return the parsed JSON body. Raises Invalid when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Invalid([error(DOCUMENT, "Тело запроса не является JSON в UTF-8.")]) from exc

    def object(self) -> dict[str, Any]:
        """Return the parsed JSON body as an object. Raises Invalid otherwise."""
        document = self.document()
        if not isinstance(document, dict):
            raise Invalid([error(DOCUMENT, "Ожидается JSON-объект.")])
        return document


class Stats:
    """Counters, flat or by key, read as JSON."""

    def __init__(self) -> None:
        self.counts: dict[str, Any] = {}

    def add(self, name: str, key: str | None = None, n: int = 1) -> None:
        """Count n more of name, or of name by key."""
        if key is None:
            self.counts[name] = self.counts.get(name, 0) + n
        else:
            by = self.counts.setdefault(name, {})
            by[key] = by.get(key, 0) + n

    def as_dict(self) -> dict[str, Any]:
        """Return a copy of the counters."""
        return json.loads(json.dumps(self.counts))

    @staticmethod
    def total(parts: Iterable[Stats]) -> dict[str, Any]:
        """Return the sums of several systems' counters."""
        summed = Stats()
        for part in parts:
            for name, value in part.counts.items():
                if isinstance(value, dict):
                    for key, n in value.items():
                        summed.add(name, key, n)
                else:
                    summed.add(name, n=value)
        return summed.as_dict()


@dataclass
class System:
    """One agency's system on a peer: its code, path prefix, secret, faults and counters."""

    code: str
    prefix: str
    secret: str
    faults: Faults
    stats: Stats = field(default_factory=Stats)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: str
    label: str

    def match(self, path: str) -> dict[str, str] | None:
        found = re.fullmatch(self.pattern, path)
        return None if found is None else {k: unquote(v) for k, v in found.groupdict().items()}


def _number(value: Any, *, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


CONTROL_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "error_share": (lambda v: _number(v, low=0, high=1), "Число от 0 до 1."),
    "slow_share": (lambda v: _number(v, low=0, high=1), "Число от 0 до 1."),
    "slow_seconds": (lambda v: _number(v, low=0, high=3600), "Число секунд от 0 до 3600."),
    "settle_seconds": (lambda v: _number(v, low=0, high=86400), "Число секунд от 0 до 86400."),
    "down": (lambda v: isinstance(v, bool), "true или false."),
}


class Peer:
    """A server's systems, routes and state; `handle` answers one request."""

    name = ""
    routes: tuple[Route, ...] = ()
    # Bank and register are slow by answering late; the agencies answer later instead (202).
    slow_by_delay = True

    def __init__(self, *, systems: list[System], seed: int | None = None) -> None:
        self.systems = systems
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.in_flight = 0
        self.idle = threading.Condition()

    def handle(self, *, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one request; a bug answers 500 and its traceback goes to stderr."""
        with self.idle:
            self.in_flight += 1
        try:
            return self._handle(method, target, headers, body)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return detail(500, "Внутренняя ошибка эмулятора.")
        finally:
            with self.idle:
                self.in_flight -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        """Wait until no request is being answered, at most timeout seconds."""
        with self.idle:
            self.idle.wait_for(lambda: self.in_flight == 0, timeout)

    def _system(self, path: str) -> tuple[System | None, str]:
        for system in self.systems:
            if system.prefix and path.startswith(system.prefix):
                return system, path[len(system.prefix) :]
        root = next((s for s in self.systems if not s.prefix), None)
        return root, path

    def _handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        parts = urlsplit(target)
        path = parts.path.lstrip("/")
        system, rest = self._system(path)
        if system is None:
            # The agencies' server root: control and counters of all its systems at once.
            return self._emulator(method, path, body, self.systems)
        if rest in ("_control", "_stats"):
            return self._emulator(method, rest, body, [system])
        with self.lock:
            faults = Faults(**asdict(system.faults))
            faulty = self._fault(system, faults)
        if faulty is not None:
            return faulty
        refused = self._authenticate(system, headers, body)
        if refused is not None:
            with self.lock:
                system.stats.add("unauthorized")
            return refused
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return self._route(system, faults, Call(method, rest, query, body))

    def _emulator(self, method: str, path: str, body: bytes, systems: list[System]) -> Reply:
        """Answer the unsigned `_control` and `_stats` of one system or of all."""
        if path == "_control":
            return self._control(method, body, systems)
        if path != "_stats":
            return detail(404, "Не найдено.")
        if method != "GET":
            return detail(405, "Метод не поддерживается.")
        with self.lock:
            if len(systems) == 1:
                return Reply(200, systems[0].stats.as_dict())
            by = {s.code: s.stats.as_dict() for s in systems}
            return Reply(200, {**Stats.total(s.stats for s in systems), "by_system": by})

    def _fault(self, system: System, faults: Faults) -> Reply | None:
        """Return the injected fault for this request, if it gets one."""
        if faults.down:
            system.stats.add("dropped")
            return DROP
        if self.rng.random() < faults.error_share:
            # Before anything is recorded: the retry of a refused request is a first try.
            system.stats.add("errors")
            return detail(503, "Сервис временно недоступен, повторите запрос позже.")
        return None

    def _route(self, system: System, faults: Faults, call: Call) -> Reply:
        allowed = False
        for route in self.routes:
            args = route.match(call.path)
            if args is None:
                continue
            allowed = True
            if route.method != call.method:
                continue
            call.args = args
            with self.lock:
                system.stats.add("by_route", f"{call.method} {route.label}")
                try:
                    reply = getattr(self, route.handler)(system, call)
                except Invalid as exc:
                    reply = Reply(400, {"errors": exc.errors})
                if reply.status in (400, 409):
                    system.stats.add("invalid" if reply.status == 400 else "conflicts")
                slow = self.slow_by_delay and self.rng.random() < faults.slow_share
                if slow:
                    system.stats.add("slowed")
            return Reply(reply.status, reply.body, faults.slow_seconds) if slow else reply
        if allowed:
            return detail(405, "Метод не поддерживается.")
        return detail(404, "Не найдено.")

    def _authenticate(self, system: System, headers: Any, body: bytes) -> Reply | None:
        code = headers.get("X-System", "")
        stamp = headers.get("X-Timestamp", "")
        signed = headers.get("X-Signature", "")
        if not (code and stamp and signed):
            return detail(401, "Нет заголовков X-System, X-Timestamp и X-Signature.")
        try:
            age = abs(time.time() - int(stamp))
        except ValueError:
            return detail(401, "X-Timestamp должен быть временем Unix в секундах.")
        if age > SIGNATURE_MAX_AGE_SECONDS:
            return detail(401, "Подпись устарела: время запроса отличается более чем на 300 с.")
        if not hmac.compare_digest(signature(system.secret, stamp, body), signed.lower()):
            return detail(401, "Подпись неверна.")
        return None

    def _control(self, method: str, body: bytes, systems: list[System]) -> Reply:
        if method not in ("GET", "POST"):
            return detail(405, "Метод не поддерживается.")
        changes: dict[str, Any] = {}
        if method == "POST" and body.strip():
            try:
                changes = Call(method, "_control", {}, body).object()
            except Invalid as exc:
                return Reply(400, {"errors": exc.errors})
        errors = [
            error(name, "Неизвестный параметр.")
            if name not in CONTROL_CHECKS
            else error(name, CONTROL_CHECKS[name][1])
            for name, value in changes.items()
            if name not in CONTROL_CHECKS or not CONTROL_CHECKS[name][0](value)
        ]
        if errors:
            return Reply(400, {"errors": errors})
        with self.lock:
            for system in systems:
                for name, value in changes.items():
                    setattr(system.faults, name, value)
            if len(systems) == 1:
                return Reply(200, asdict(systems[0].faults))
            return Reply(200, {s.code: asdict(s.faults) for s in systems})


class PeerServer(ThreadingHTTPServer):
    """A threading HTTP server answering with its peer."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], peer: Peer, *, verbosity: int = 1) -> None:
        self.peer = peer
        self.verbosity = verbosity
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection is closed after this many seconds.
    timeout = 120
    server: PeerServer

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _answer(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._write(detail(413 if length > 0 else 400, "Неверная длина тела запроса."))
            return
        body = self.rfile.read(length) if length else b""
        reply = self.server.peer.handle(
            method=self.command, target=self.path, headers=self.headers, body=body
        )
        if reply is DROP:
            self.close_connection = True
            return
        if reply.delay:
            time.sleep(reply.delay)
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        payload = json.dumps(reply.body, ensure_ascii=False).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbosity >= 2:
            super().log_message(format, *args)
