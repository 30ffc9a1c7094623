"""The emulated peers of docs/peers.md over real HTTP, each in its own process."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
import urllib.error
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from integration.contracts import answer_problems
from platform_core.validators import account_control_key, snils_from_number
from tests.peers import Peers, peer_start, peer_stop, request

MONEY = re.compile(r"[0-9]+\.[0-9]{2}")
KNOWN_BIC = "040813608"  # in the Bank of Russia directory excerpt the bank knows
UNKNOWN_BIC = "040813999"
PERIOD = {"from": "2025-10", "to": "2026-09"}
MONTHS = [f"2025-{m:02d}" for m in range(10, 13)] + [f"2026-{m:02d}" for m in range(1, 10)]


@pytest.fixture
def peer(peers: Peers) -> Iterator[Peers]:
    """The session's peers, put back to their start-up settings after the test."""
    try:
        yield peers
    finally:
        peers.reset()


def snils(n: int) -> str:
    return snils_from_number(100_200_300 + n * 7919)


def inquiry(kind: str, person: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()),
        "kind": kind,
        "subject": {
            "snils": person,
            "last_name": "Иванова",
            "first_name": "Мария",
            "patronymic": "Петровна",
            "birth_date": "1990-05-17",
        },
        "params": params if params is not None else {},
    }


def wait_for(check: Callable[[], Any], seconds: float = 5.0) -> Any:
    """Return check()'s first truthy result, asking again until seconds have passed."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# Signatures


def test_unsigned_stale_or_wrongly_keyed_requests_are_refused(peers):
    document = inquiry("address", snils(1))
    fresh = peers.call("mvd", "POST", "requests", document)
    unsigned = peers.call("mvd", "POST", "requests", document, secret=None)
    other_key = peers.call("mvd", "POST", "requests", document, secret="demo-fns")
    stale = peers.call("mvd", "POST", "requests", document, timestamp=time.time() - 301)
    bank = peers.call("bank", "GET", "v1/statements", secret="demo-register")
    register = peers.call("register", "GET", "v1/facts/x", secret="demo-bank")

    assert fresh.status == 200
    for refused in (unsigned, other_key, stale, bank, register):
        assert refused.status == 401
        assert refused.body["detail"]


def test_a_get_is_signed_over_an_empty_body(peers):
    unknown = f"requests/{uuid.uuid4()}"

    assert peers.call("fns", "GET", unknown).status == 404
    assert peers.call("fns", "GET", unknown, signed_body=b"{}").status == 401


# Data providers


KINDS = [
    ("fns", "income", PERIOD),
    ("sfr", "benefits", PERIOD),
    ("sfr", "pension", None),
    ("mvd", "address", None),
    ("edu-27", "education", None),
    ("fri", "disability", None),
]


def known(peers: Peers, agency: str, kind: str, params: Any, *, first: int = 0) -> tuple[str, Any]:
    """The SNILS and data of the first person the agency knows, among people from first."""
    for n in range(first, first + 40):
        answer = peers.call(agency, "POST", "requests", inquiry(kind, snils(n), params))
        assert answer.status == 200, answer
        if answer.body["status"] == "answered":
            assert set(answer.body) == {"request_id", "status", "data"}
            return snils(n), answer.body["data"]
    raise AssertionError(f"no one of 40 people is known to {agency}")


@pytest.mark.parametrize(("agency", "kind", "params"), KINDS)
def test_each_kind_is_answered_in_its_documented_shape(peers, agency, kind, params):
    _person, data = known(peers, agency, kind, params)

    assert answer_problems(kind, data) == []
    if kind == "income":
        assert {line["kind"] for line in data["incomes"]} <= {"salary", "business", "other"}
        assert all(MONEY.fullmatch(line["amount"]) for line in data["incomes"])
        assert all(re.fullmatch(r"27[0-9]{8}", line["payer_inn"]) for line in data["incomes"])
        assert {line["month"] for line in data["incomes"]} <= set(MONTHS)
    elif kind == "benefits":
        assert all(MONEY.fullmatch(p["amount"]) and p["measure"] for p in data["payments"])
        assert {p["month"] for p in data["payments"]} <= set(MONTHS)
    elif kind == "pension":
        assert set(data) == {"pensioner", "kind", "since", "amount"}
    elif kind == "address":
        assert data["address"]["region"] == "27"
        assert data["address"]["text"].startswith("Хабаровский край, ")
    elif kind == "education":
        assert set(data) == {"enrolled", "institution", "full_time", "from", "to"}
    else:
        assert data["group"] in {"1", "2", "3", "child"}
        assert set(data) == {"group", "from", "to", "from_childhood"}


def test_a_salary_is_reported_for_every_month_of_the_period(peers):
    earners = []
    for n in range(30):
        answer = peers.call("fns", "POST", "requests", inquiry("income", snils(n), PERIOD))
        if answer.body["status"] == "answered" and answer.body["data"]["incomes"]:
            earners.append(answer.body["data"]["incomes"])

    assert len(earners) >= 20
    for incomes in earners:
        salaries = [line for line in incomes if line["kind"] == "salary"]
        assert [line["month"] for line in salaries] == MONTHS


def test_the_same_snils_gets_the_same_answer_and_others_differ(peers):
    params = {"from": "2026-01", "to": "2026-06"}
    person, data = known(peers, "fns", "income", params, first=50)

    again = peers.call("fns", "POST", "requests", inquiry("income", person, params))
    shorter = inquiry("income", person, {"from": "2026-03", "to": "2026-04"})
    part = peers.call("fns", "POST", "requests", shorter)
    others = [
        peers.call("fns", "POST", "requests", inquiry("income", snils(n), params)).body.get("data")
        for n in range(100, 105)
    ]

    assert again.body["data"] == data
    # An overlapping period agrees on the months it shares.
    common = [line for line in data["incomes"] if line["month"] in ("2026-03", "2026-04")]
    assert part.body["data"]["incomes"] == common
    assert all(other != data for other in others)


def test_a_small_share_of_people_is_not_found_and_stays_so(peers):
    statuses = {
        n: peers.call("mvd", "POST", "requests", inquiry("address", snils(n))).body["status"]
        for n in range(200)
    }
    missing = [n for n, status in statuses.items() if status == "not_found"]
    again = peers.call("mvd", "POST", "requests", inquiry("address", snils(missing[0])))

    assert 1 <= len(missing) <= 25
    assert set(statuses.values()) == {"answered", "not_found"}
    assert again.status == 200
    assert set(again.body) == {"request_id", "status"}
    assert again.body["status"] == "not_found"


def _without(document: dict[str, Any], path: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    node = changed
    for name in parents:
        node = node[name]
    del node[last]
    return changed


def _with(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    node = changed
    for name in parents:
        node = node[name]
    node[last] = value
    return changed


INCOME = inquiry("income", snils(3), PERIOD)


@pytest.mark.parametrize(
    ("agency", "document", "field"),
    [
        ("fns", _without(INCOME, "request_id"), "request_id"),
        ("fns", _with(INCOME, "request_id", "not-a-uuid"), "request_id"),
        ("sfr", INCOME, "kind"),
        ("fns", _with(INCOME, "kind", "pension"), "kind"),
        ("fns", _with(INCOME, "params.from", "2025-13"), "params.from"),
        ("fns", _without(INCOME, "params.to"), "params.to"),
        ("fns", _with(INCOME, "params", {"from": "2026-09", "to": "2025-10"}), "params"),
        ("fns", _without(INCOME, "subject.snils"), "subject.snils"),
        ("fns", _with(INCOME, "subject.snils", "12345678964"), "subject.snils"),
        ("fns", _with(INCOME, "subject.birth_date", "1990-02-30"), "subject.birth_date"),
    ],
)
def test_a_malformed_request_is_refused_naming_the_field(peers, agency, document, field):
    answer = peers.call(agency, "POST", "requests", document)

    assert answer.status == 400
    assert [e["field"] for e in answer.body["errors"]] == [field]
    assert all(e["message"] for e in answer.body["errors"])


def test_a_slow_request_is_accepted_then_answered_when_asked_again(peer):
    person, data = known(peer, "edu-27", "education", None)
    peer.control("edu-27", slow_share=1.0)
    document = inquiry("education", person)
    poll = f"requests/{document['request_id']}"

    first = peer.call("edu-27", "POST", "requests", document)
    early = peer.call("edu-27", "GET", poll)
    late = wait_for(lambda: (a := peer.call("edu-27", "GET", poll)).status == 200 and a, 3)
    repeat = peer.call("edu-27", "POST", "requests", document)

    assert first.status == 202
    assert first.body == {"request_id": document["request_id"], "status": "accepted"}
    assert early.status == 202
    assert late
    assert late.body == {"request_id": document["request_id"], "status": "answered", "data": data}
    assert repeat.status == 200
    assert repeat.body == late.body


def test_an_unknown_request_id_is_answered_404(peers):
    answer = peers.call("sfr", "GET", f"requests/{uuid.uuid4()}")

    assert answer.status == 404
    assert answer.body["detail"]


def test_a_request_id_is_one_job_and_another_body_under_it_conflicts(peers):
    document = inquiry("pension", snils(7))
    before = peers.stats("sfr")

    first = peers.call("sfr", "POST", "requests", document)
    repeat = peers.call("sfr", "POST", "requests", document)
    other = peers.call("sfr", "POST", "requests", _with(document, "subject.snils", snils(8)))
    after = peers.stats("sfr")

    assert first.status == repeat.status == 200
    assert repeat.body == first.body
    assert other.status == 409
    assert other.body["detail"]
    assert after["requests"] - before.get("requests", 0) == 3
    assert after["by_kind"]["pension"] - before.get("by_kind", {}).get("pension", 0) == 1
    assert after["conflicts"] - before.get("conflicts", 0) == 1


def test_error_share_one_answers_503_and_records_nothing(peer):
    document = inquiry("disability", snils(9))
    peer.control("fri", error_share=1.0)
    before = peer.stats("fri")

    refused = peer.call("fri", "POST", "requests", document)
    after = peer.stats("fri")
    peer.control("fri", error_share=0.0)
    # Not recorded: the id is free, so even another body under it is a first request.
    retried = peer.call("fri", "POST", "requests", _with(document, "subject.snils", snils(10)))

    assert refused.status == 503
    assert refused.body["detail"]
    assert after["errors"] - before.get("errors", 0) == 1
    assert retried.status == 200


def test_control_of_one_agency_leaves_the_others_working(peer):
    settings = peer.control("fns", error_share=1.0)

    fns = peer.call("fns", "POST", "requests", inquiry("income", snils(11), PERIOD))
    sfr = peer.call("sfr", "POST", "requests", inquiry("pension", snils(11)))

    assert settings["error_share"] == 1.0
    assert fns.status == 503
    assert sfr.status == 200


def test_a_peer_that_is_down_closes_the_connection_and_still_takes_control(peer):
    peer.control("bank", down=True)

    with pytest.raises((urllib.error.URLError, ConnectionError)):
        peer.call("bank", "GET", "v1/statements")
    settings = peer.control("bank", down=False)

    assert settings["down"] is False
    assert peer.call("bank", "GET", "v1/statements").status == 200


def test_control_refuses_unknown_or_out_of_range_settings(peers):
    answer = request(peers.url("bank") + "_control", "POST", {"error_share": 2, "colour": "red"})

    assert answer.status == 400
    assert sorted(e["field"] for e in answer.body["errors"]) == ["colour", "error_share"]


def test_stats_count_requests_by_kind_polls_and_complaints(peers):
    before = peers.stats("agencies")
    document = inquiry("benefits", snils(12), PERIOD)
    peers.call("sfr", "POST", "requests", document)
    peers.call("sfr", "GET", f"requests/{document['request_id']}")
    peers.call("sfr", "GET", f"requests/{document['request_id']}")
    complaint = {
        "complaint_id": str(uuid.uuid4()),
        "request_id": document["request_id"],
        "kind": "wrong_data",
        "text": "Выплата за январь указана дважды.",
    }
    peers.call("sfr", "POST", "complaints", complaint)

    after = peers.stats("agencies")

    def grew(*path: str) -> int:
        old: Any = before
        new: Any = after
        for name in path:
            old, new = old.get(name, {}), new.get(name, {})
        return (new or 0) - (old or 0)

    assert grew("requests") == 1
    assert grew("by_kind", "benefits") == 1
    assert grew("polls") == 2
    assert grew("complaints") == 1
    assert grew("by_system", "sfr", "requests") == 1
    assert grew("by_route", "GET requests/{id}") == 2


# Complaints


def test_a_complaint_is_accepted_then_answered_after_settling(peers):
    complaint = {
        "complaint_id": str(uuid.uuid4()),
        "request_id": None,
        "kind": "wrong_data",
        "text": "Доход за март не совпадает со справкой 2-НДФЛ.",
    }

    accepted = peers.call("fns", "POST", "complaints", complaint)
    waiting = peers.call("fns", "GET", f"complaints/{complaint['complaint_id']}")
    settled = wait_for(
        lambda: (
            a.body
            if (a := peers.call("fns", "GET", f"complaints/{complaint['complaint_id']}")).body[
                "status"
            ]
            == "answered"
            else None
        )
    )
    repeat = peers.call("fns", "POST", "complaints", complaint)
    other = peers.call("fns", "POST", "complaints", {**complaint, "text": "Другой текст."})
    again = peers.call("fns", "GET", f"complaints/{complaint['complaint_id']}")

    assert accepted.status == 202
    assert accepted.body == {"complaint_id": complaint["complaint_id"], "status": "accepted"}
    assert waiting.body["status"] == "accepted"
    assert settled is not None
    assert isinstance(settled["corrected"], bool)
    assert re.search("[а-я]", settled["answer"])
    assert repeat.status == 202
    assert other.status == 409
    assert again.body == settled


def test_a_malformed_complaint_is_refused(peers):
    answer = peers.call(
        "fns", "POST", "complaints", {"complaint_id": str(uuid.uuid4()), "kind": "rude", "text": ""}
    )

    assert answer.status == 400
    assert sorted(e["field"] for e in answer.body["errors"]) == ["kind", "text"]
    assert peers.call("fns", "GET", f"complaints/{uuid.uuid4()}").status == 404


# Bank


def account(bic: str, body: str) -> str:
    """A 20-digit account at bic with the right control key (the platform's own function)."""
    return account_control_key(f"40817810{body}", bic)


def mir_card(body: str) -> str:
    digits = f"2200{body}"
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (1 if i % 2 else 2)
        total += n - 9 if n > 9 else n
    return digits + str(-total % 10)


def payment(amount: str = "15000.00", **details: Any) -> dict[str, Any]:
    line = {
        "payment_id": str(uuid.uuid4()),
        "amount": amount,
        "recipient": {"name": "Петрова Анна Сергеевна", "snils": snils(20)},
    }
    return line | (
        details
        or {"channel": "account", "bic": KNOWN_BIC, "account": account(KNOWN_BIC, "12345678901")}
    )


def batch(payments: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    text = json.dumps(payments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    document = {
        "batch_id": str(uuid.uuid4()),
        "payment_date": "2026-12-03",
        "currency": "RUB",
        "count": len(payments),
        "total": str(sum((Decimal(p["amount"]) for p in payments), Decimal("0.00"))),
        "checksum": hashlib.sha256(text.encode()).hexdigest(),
        "payments": payments,
    }
    return document | header


def statement_of(peers: Peers, payment_ids: set[str], seconds: float = 5.0) -> dict[str, dict]:
    """The statement items of these payments, once each has one."""

    def read() -> dict[str, dict] | None:
        items = peers.call("bank", "GET", "v1/statements?after=0&limit=10000").body["items"]
        found = {i["payment_id"]: i for i in items if i["payment_id"] in payment_ids}
        return found if len(found) == len(payment_ids) else None

    found = wait_for(read, seconds)
    assert found is not None, "not settled in time"
    return found


def test_a_valid_batch_is_accepted_and_its_repeat_gets_the_same_answer(peers):
    document = batch(
        [
            payment("15000.00"),
            payment("15000.00", channel="post", address="г. Хабаровск, ул. Ленина, д. 1"),
        ]
    )

    first = peers.call("bank", "POST", "v1/payment-orders", document)
    repeat = peers.call("bank", "POST", "v1/payment-orders", document)

    assert first.status == 200
    assert first.body == {
        "batch_id": document["batch_id"],
        "status": "accepted",
        "count": 2,
        "total": "30000.00",
    }
    assert repeat.status == 200
    assert repeat.body == first.body


def _broken(change: Callable[[dict[str, Any]], None], *, rechecksum: bool = True) -> dict[str, Any]:
    lines = [payment("100.00"), payment("200.00"), payment("300.00")]
    document = batch(lines)
    change(document)
    if rechecksum:
        document = batch(document["payments"], total=document["total"], count=document["count"])
    return document


def _set(index: int, name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["payments"][index].__setitem__(name, value)


@pytest.mark.parametrize(
    ("document", "line", "field"),
    [
        (_broken(lambda d: d.__setitem__("total", "601.00")), 0, "total"),
        (_broken(lambda d: d.__setitem__("count", 4)), 0, "count"),
        (_broken(lambda d: d.__setitem__("checksum", "0" * 64), rechecksum=False), 0, "checksum"),
        (_broken(lambda d: d.__setitem__("currency", "USD"), rechecksum=False), 0, "currency"),
        (
            _broken(
                lambda d: d["payments"][2].__setitem__("payment_id", d["payments"][0]["payment_id"])
            ),
            3,
            "payments[2].payment_id",
        ),
        (_broken(_set(1, "amount", "200.5")), 2, "payments[1].amount"),
        (_broken(_set(1, "amount", "-200.00")), 2, "payments[1].amount"),
        (_broken(_set(0, "bic", "40813608")), 1, "payments[0].bic"),
        (_broken(_set(2, "account", "4081781012345678901")), 3, "payments[2].account"),
        (_broken(_set(1, "channel", "pigeon")), 2, "payments[1].channel"),
        (
            _broken(lambda d: d["payments"][0].update(channel="card", card="1234567890123456")),
            1,
            "payments[0].card",
        ),
        (
            _broken(
                lambda d: d["payments"][0].update(
                    channel="card", card=mir_card("12345678901")[:-1] + "0"
                )
            ),
            1,
            "payments[0].card",
        ),
    ],
)
def test_a_faulty_batch_is_refused_naming_the_line_and_field(peers, document, line, field):
    answer = peers.call("bank", "POST", "v1/payment-orders", document)
    # Nothing of the refused batch was taken: its payments go through in a good batch.
    good = peers.call("bank", "POST", "v1/payment-orders", batch(_repaired(document)))

    assert answer.status == 400
    assert [(e["line"], e["field"]) for e in answer.body["errors"]] == [(line, field)]
    assert all(e["message"] for e in answer.body["errors"])
    assert good.status == 200, good.body


def _repaired(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The refused batch's payment ids in good lines."""
    ids = dict.fromkeys(p["payment_id"] for p in document["payments"])
    return [payment("100.00") | {"payment_id": payment_id} for payment_id in ids]


def test_another_batch_under_a_used_id_or_with_a_used_payment_conflicts(peers):
    first = batch([payment("500.00"), payment("700.00")])
    assert peers.call("bank", "POST", "v1/payment-orders", first).status == 200

    same_id = batch([payment("500.00")], batch_id=first["batch_id"])
    reused = batch([payment("10.00"), first["payments"][1]])
    answer_id = peers.call("bank", "POST", "v1/payment-orders", same_id)
    answer_payment = peers.call("bank", "POST", "v1/payment-orders", reused)

    assert answer_id.status == 409
    assert answer_id.body["detail"]
    assert answer_payment.status == 409
    assert [(e["line"], e["field"]) for e in answer_payment.body["errors"]] == [
        (2, "payments[1].payment_id")
    ]


def test_payments_settle_credited_or_returned_with_their_reason(peers):
    lines = {
        "credited": payment("1000.00"),
        "wrong_key": payment(
            "1001.00",
            channel="account",
            bic=KNOWN_BIC,
            account=_wrong_key(account(KNOWN_BIC, "22222222222")),
        ),
        "unknown_bic": payment(
            "1002.00",
            channel="account",
            bic=UNKNOWN_BIC,
            account=account(UNKNOWN_BIC, "33333333333"),
        ),
        "closed": payment(
            "1003.00", channel="account", bic=KNOWN_BIC, account=account(KNOWN_BIC, "44444444000")
        ),
        "card": payment("1004.00", channel="card", card=mir_card("12345678901")),
        "post": payment(
            "1005.00", channel="post", address="Хабаровский край, г. Бикин, ул. Ленина, д. 3"
        ),
    }
    document = batch(list(lines.values()))
    assert peers.call("bank", "POST", "v1/payment-orders", document).status == 200

    items = statement_of(peers, {p["payment_id"] for p in lines.values()})
    outcome = {
        name: (items[p["payment_id"]]["status"], items[p["payment_id"]]["reason"])
        for name, p in lines.items()
    }

    assert outcome == {
        "credited": ("credited", None),
        "wrong_key": ("returned", "wrong_details"),
        "unknown_bic": ("returned", "wrong_details"),
        "closed": ("returned", "account_closed"),
        "card": ("credited", None),
        "post": ("credited", None),
    }
    for name, line in lines.items():
        item = items[line["payment_id"]]
        assert item["amount"] == line["amount"], name
        assert item["batch_id"] == document["batch_id"]
        assert item["at"]


def _wrong_key(account_number: str) -> str:
    key = int(account_number[8])
    return f"{account_number[:8]}{(key + 1) % 10}{account_number[9:]}"


def test_the_statement_is_read_from_a_cursor_in_pages(peers):
    document = batch([payment("1.00"), payment("2.00"), payment("3.00")])
    peers.call("bank", "POST", "v1/payment-orders", document)
    statement_of(peers, {p["payment_id"] for p in document["payments"]})

    everything = peers.call("bank", "GET", "v1/statements").body
    seqs = [item["seq"] for item in everything["items"]]
    page = peers.call("bank", "GET", f"v1/statements?after={seqs[-4]}&limit=2").body
    rest = peers.call("bank", "GET", f"v1/statements?after={page['next']}").body
    end = peers.call("bank", "GET", f"v1/statements?after={everything['next']}").body
    bad = peers.call("bank", "GET", "v1/statements?after=-1&limit=x")

    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert everything["next"] == seqs[-1]
    assert [i["seq"] for i in page["items"]] == seqs[-3:-1]
    assert page["next"] == seqs[-2]
    assert [i["seq"] for i in rest["items"]] == seqs[-1:]
    assert end == {"items": [], "next": everything["next"]}
    assert bad.status == 400
    assert sorted(e["field"] for e in bad.body["errors"]) == ["after", "limit"]


def test_return_requests_recall_a_credited_payment_and_refuse_the_others(peers):
    credited = payment("2500.00")
    returned = payment(
        "2600.00", channel="account", bic=KNOWN_BIC, account=account(KNOWN_BIC, "55555555000")
    )
    document = batch([credited, returned])
    peers.call("bank", "POST", "v1/payment-orders", document)
    statement_of(peers, {credited["payment_id"], returned["payment_id"]})
    asks = {
        name: {
            "request_id": str(uuid.uuid4()),
            "payment_id": payment_id,
            "reason": "Получатель умер 2026-10-14",
        }
        for name, payment_id in (
            ("credited", credited["payment_id"]),
            ("returned", returned["payment_id"]),
            ("unknown", str(uuid.uuid4())),
        )
    }

    answers = {
        name: peers.call("bank", "POST", "v1/return-requests", ask) for name, ask in asks.items()
    }
    repeat = peers.call("bank", "POST", "v1/return-requests", asks["credited"])
    other = peers.call("bank", "POST", "v1/return-requests", {**asks["credited"], "reason": "иное"})
    malformed = peers.call("bank", "POST", "v1/return-requests", {"request_id": "1"})

    def recalls() -> list[dict] | None:
        items = peers.call("bank", "GET", "v1/statements?limit=10000").body["items"]
        found = [
            i for i in items if i.get("request_id") in {a["request_id"] for a in asks.values()}
        ]
        return found if len(found) >= 3 else None

    assert wait_for(recalls) is not None
    time.sleep(0.3)  # a repeat settling a second time would show by now
    found = recalls()
    by_request = {i["request_id"]: i for i in found}

    assert all(a.status == 202 and a.body["status"] == "accepted" for a in answers.values())
    assert repeat.status == 202
    assert other.status == 409
    assert malformed.status == 400
    assert len(found) == 3
    assert by_request[asks["credited"]["request_id"]]["status"] == "recalled"
    assert by_request[asks["credited"]["request_id"]]["amount"] == "2500.00"
    assert by_request[asks["returned"]["request_id"]]["status"] == "recall_refused"
    assert by_request[asks["unknown"]["request_id"]]["status"] == "recall_refused"


def test_a_slow_bank_answers_late(peer):
    peer.control("bank", slow_share=1.0, slow_seconds=0.4)
    started = time.monotonic()

    answer = peer.call("bank", "GET", "v1/statements?limit=1")

    assert answer.status == 200
    assert time.monotonic() - started >= 0.4


# Federal register


def fact(fact_id: str | None = None, version: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "fact_id": fact_id or str(uuid.uuid4()),
        "version": version,
        "kind": "assignment",
        "status": "assigned",
        "measure": {
            "code": "27-child-allowance",
            "title": "Ежемесячное пособие на ребенка",
            "level": "regional",
        },
        "person": {
            "snils": snils(30),
            "last_name": "Сидорова",
            "first_name": "Елена",
            "birth_date": "1988-03-12",
        },
        "decision": {"number": "27-2026-000123", "date": "2026-11-02", "proactive": True},
        "period_from": "2026-11-01",
        "period_to": None,
        "amount": "1450.00",
        "periodicity": "monthly",
        "region": "27",
        "provider": {
            "code": "27-ministry",
            "name": "Министерство социальной защиты Хабаровского края",
        },
    } | changes


def test_the_register_accepts_valid_facts_and_rejects_faulty_ones_in_order(peers):
    good = fact()
    faulty = fact(
        person={
            "snils": "12345678964",
            "last_name": "Сидорова",
            "first_name": "Елена",
            "birth_date": "1988-03-12",
        },
        period_from="2026-02-30",
        colour="red",
    )
    del faulty["decision"]
    before = peers.stats("register")

    answer = peers.call("register", "POST", "v1/facts", {"facts": [good, faulty, fact()]})
    after = peers.stats("register")

    assert answer.status == 200
    results = answer.body["results"]
    assert [(r["fact_id"], r["status"]) for r in results] == [
        (good["fact_id"], "accepted"),
        (faulty["fact_id"], "rejected"),
        (results[2]["fact_id"], "accepted"),
    ]
    assert [e["field"] for e in results[1]["errors"]] == [
        "colour",
        "decision",
        "period_from",
        "person.snils",
    ]
    assert after["accepted"] - before.get("accepted", 0) == 2
    assert after["rejected"] - before.get("rejected", 0) == 1
    assert after["batches"] - before.get("batches", 0) == 1


def test_the_register_keeps_the_latest_version_of_a_fact(peers):
    fact_id = str(uuid.uuid4())

    def send(version: int, **changes: Any) -> dict[str, Any]:
        document = {"facts": [fact(fact_id, version, **changes)]}
        return peers.call("register", "POST", "v1/facts", document).body["results"][0]

    second = send(2, status="changed", amount="1500.00")
    repeat = send(2, status="changed", amount="1500.00")
    older = send(1)
    held = peers.call("register", "GET", f"v1/facts/{fact_id}")
    changed = send(2, status="changed", amount="9999.00")
    third = send(3, status="terminated", period_to="2026-12-31")
    latest = peers.call("register", "GET", f"v1/facts/{fact_id}")

    assert [r["status"] for r in (second, repeat, older, third)] == ["accepted"] * 4
    assert held.status == 200
    assert (held.body["version"], held.body["amount"]) == (2, "1500.00")
    assert changed["status"] == "rejected"
    assert [e["field"] for e in changed["errors"]] == ["version"]
    assert (latest.body["version"], latest.body["status"]) == (3, "terminated")
    assert peers.call("register", "GET", f"v1/facts/{uuid.uuid4()}").status == 404


def test_the_register_refuses_more_than_500_facts_or_no_list(peers):
    too_many = peers.call("register", "POST", "v1/facts", {"facts": [fact() for _ in range(501)]})
    no_list = peers.call("register", "POST", "v1/facts", {"facts": "all"})

    assert too_many.status == 400
    assert [e["field"] for e in too_many.body["errors"]] == ["facts"]
    assert no_list.status == 400


# The process


def test_a_peer_keeps_its_given_secret_and_stops_cleanly_on_sigterm():
    process, url = peer_start("register", "--secrets", "register=s3cret")
    try:
        default = request(f"{url}v1/facts/x", secret="demo-register")
        given = request(f"{url}v1/facts/x", secret="s3cret")
    finally:
        code = peer_stop(process)

    assert default.status == 401
    assert given.status == 404
    assert code == 0
