"""The emulated SMS gateway of docs/peers.md ("SMS gateway").

It takes one message per request, checks the phone (+7XXXXXXXXXX or 8XXXXXXXXXX) and the
text, and keeps what it accepted in memory, where `GET v1/messages/{id}` reads it back. A
message id is an idempotency key: the same message sent again is accepted again and counted
once; other content under a used id is a conflict.
"""

from __future__ import annotations

import re
from typing import Any

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
)

CODE = "sms"
PHONE = re.compile(r"(\+7|8)[0-9]{10}")
MAX_ID = 100
MAX_TEXT = 1000
# The GSM 03.38 basic alphabet: texts in it take 160 characters per SMS (153 in a long one);
# any other (Cyrillic) character makes it UCS-2: 70 (67).
GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def segments(text: str) -> int:
    """Return how many SMS a text takes."""
    single, part = (160, 153) if set(text) <= GSM else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


def message_errors(document: dict[str, Any]) -> list[dict[str, str]]:
    """Return every fault of a message, by field."""
    errors = []
    message_id = document.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        errors.append(error("message_id", "Обязательное поле: непустая строка."))
    elif len(message_id) > MAX_ID:
        errors.append(error("message_id", f"Не длиннее {MAX_ID} символов."))
    phone = document.get("phone")
    if not isinstance(phone, str) or not PHONE.fullmatch(phone):
        errors.append(error("phone", "Номер в виде +7XXXXXXXXXX или 8XXXXXXXXXX."))
    text = document.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append(error("text", "Обязательное поле: непустой текст."))
    elif len(text) > MAX_TEXT:
        errors.append(error("text", f"Не длиннее {MAX_TEXT} символов."))
    errors.extend(
        error(name, "Неизвестное поле.")
        for name in sorted(document)
        if name not in ("message_id", "phone", "text")
    )
    return errors


class SmsGateway(Peer):
    """An SMS gateway: accepts messages once per id and keeps them to be read back."""

    name = "sms"
    routes = (
        Route("POST", "v1/messages", "message_send", "v1/messages"),
        Route("GET", r"v1/messages/(?P<id>[^/]+)", "message_read", "v1/messages/{id}"),
    )

    def __init__(self, *, secrets: dict[str, str], faults: Faults, seed: int | None = None) -> None:
        system = System(code=CODE, prefix="", secret=secrets[CODE], faults=faults)
        super().__init__(systems=[system], seed=seed)
        # message id: (digest of the message, the answer given, the message)
        self.messages: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}

    def message_send(self, system: System, call: Call) -> Reply:
        """Accept one message, or the same message again."""
        document = call.object()
        errors = message_errors(document)
        if errors:
            raise Invalid(errors)
        held = self.messages.get(document["message_id"])
        if held is not None:
            if held[0] != digest(document):
                return detail(409, "Сообщение с этим message_id уже принято с другим содержимым.")
            system.stats.add("repeats")
            return Reply(200, held[1])
        accepted = {
            "message_id": document["message_id"],
            "status": "accepted",
            "segments": segments(document["text"]),
        }
        self.messages[document["message_id"]] = (digest(document), accepted, document)
        system.stats.add("accepted")
        system.stats.add("segments", n=accepted["segments"])
        return Reply(200, accepted)

    def message_read(self, system: System, call: Call) -> Reply:
        """Return a message accepted under an id, with its phone and text, or 404."""
        held = self.messages.get(call.args["id"])
        if held is None:
            return detail(404, "Сообщение с таким message_id не поступало.")
        _digest, accepted, document = held
        return Reply(200, accepted | {"phone": document["phone"], "text": document["text"]})
