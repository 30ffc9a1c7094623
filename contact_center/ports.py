"""Ports of the contact centre to the outside: the SMS gateway (docs/peers.md, "SMS gateway").

The platform speaks one protocol to whatever gateway an operator contracts (an SMS
aggregator, a regional gateway): a signed JSON POST per message, idempotent by message id.
`sms_port()` gives the configured one, or None when SMS_GATEWAY_URL is empty (SMS are then
skipped, not queued).
"""

from __future__ import annotations

import json
import time
from typing import Protocol

import httpx
from django.conf import settings

from integration.signing import signature

# A gateway's refusal that sending again cannot change: the message itself is wrong.
PERMANENT_STATUSES = {400, 404, 409, 413, 422}


class SendingFailed(Exception):
    """A message was not sent; `retry` tells whether trying again later may succeed."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


class SmsPort(Protocol):
    def send(self, *, message_id: str, phone: str, text: str) -> None:
        """Hand one SMS to the gateway. Raises SendingFailed."""


class HttpSmsGateway:
    """The SMS gateway over HTTP: `POST {url}v1/messages`, signed as every peer call is."""

    def __init__(self, *, url: str, secret: str, timeout: float) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.secret = secret
        self.timeout = timeout

    def send(self, *, message_id: str, phone: str, text: str) -> None:
        body = json.dumps(
            {"message_id": message_id, "phone": phone, "text": text}, ensure_ascii=False
        ).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-System": settings.INTEGRATION_PLATFORM_CODE,
            "X-Timestamp": stamp,
            "X-Signature": signature(self.secret, stamp, body),
        }
        try:
            response = httpx.post(
                f"{self.url}v1/messages", content=body, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise SendingFailed(f"{type(exc).__name__}: {exc}"[:500], retry=True) from exc
        if response.status_code >= 300:
            raise SendingFailed(
                f"HTTP {response.status_code}: {response.text[:500]}",
                retry=response.status_code not in PERMANENT_STATUSES,
            )


def sms_port() -> SmsPort | None:
    """Return the configured SMS gateway, or None when SMS_GATEWAY_URL is empty."""
    if not settings.SMS_GATEWAY_URL:
        return None
    return HttpSmsGateway(
        url=settings.SMS_GATEWAY_URL,
        secret=settings.SMS_GATEWAY_SECRET,
        timeout=settings.SMS_GATEWAY_TIMEOUT_SECONDS,
    )
