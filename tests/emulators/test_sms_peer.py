"""The emulated SMS gateway of docs/peers.md over real HTTP: signed, validated, idempotent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.peers.sms import segments
from tests.peers import Peers


@pytest.fixture
def peer(peers: Peers) -> Iterator[Peers]:
    try:
        yield peers
    finally:
        peers.reset()


def message(**fields: Any) -> dict[str, Any]:
    return {"message_id": str(uuid.uuid4()), "phone": "+79141234567", "text": "Привет"} | fields


def test_a_message_is_accepted_and_read_back(peers):
    sent = message(phone="89141234567", text="Решение № 1: назначено.")
    answer = peers.call("sms", "POST", "v1/messages", sent)
    read = peers.call("sms", "GET", f"v1/messages/{sent['message_id']}")

    assert answer.status == 200
    assert answer.body == {"message_id": sent["message_id"], "status": "accepted", "segments": 1}
    assert read.body["phone"] == "89141234567" and read.body["text"] == sent["text"]


def test_a_message_sent_again_is_one_message_and_other_content_conflicts(peers):
    sent = message()
    before = peers.stats("sms")
    first = peers.call("sms", "POST", "v1/messages", sent)
    again = peers.call("sms", "POST", "v1/messages", sent)
    other = peers.call("sms", "POST", "v1/messages", sent | {"text": "Другое"})
    after = peers.stats("sms")

    assert first.body == again.body
    assert other.status == 409
    assert after["accepted"] - before.get("accepted", 0) == 1
    assert after["repeats"] - before.get("repeats", 0) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "+7914123456"}, "phone"),
        ({"phone": "79141234567"}, "phone"),
        ({"phone": 79141234567}, "phone"),
        ({"text": " "}, "text"),
        ({"text": "x" * 1001}, "text"),
        ({"message_id": ""}, "message_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_faulty_message_is_refused_naming_the_field(peers, fields, field):
    answer = peers.call("sms", "POST", "v1/messages", message(**fields))

    assert answer.status == 400
    assert [e["field"] for e in answer.body["errors"]] == [field]


def test_an_unsigned_message_is_refused_and_an_unknown_one_is_404(peers):
    assert peers.call("sms", "POST", "v1/messages", message(), secret=None).status == 401
    assert peers.call("sms", "POST", "v1/messages", message(), secret="demo-bank").status == 401
    assert peers.call("sms", "GET", f"v1/messages/{uuid.uuid4()}").status == 404


def test_error_share_one_answers_503_and_the_retry_is_a_first_message(peer):
    sent = message()
    peer.control("sms", error_share=1.0)
    refused = peer.call("sms", "POST", "v1/messages", sent)
    peer.control("sms", error_share=0.0)
    retried = peer.call("sms", "POST", "v1/messages", sent)

    assert refused.status == 503
    assert retried.status == 200 and retried.body["status"] == "accepted"


@pytest.mark.parametrize(
    ("text", "count"),
    [("a" * 160, 1), ("a" * 161, 2), ("я" * 70, 1), ("я" * 71, 2), ("я" * 135, 3)],
)
def test_a_long_text_takes_several_segments(text, count):
    assert segments(text) == count
