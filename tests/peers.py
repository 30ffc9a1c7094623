"""The emulated peers (docs/peers.md) as real processes for tests: the `peers` fixture.

`peers` starts `manage.py peer agencies|bank|register|sms --port 0` once per session, reads the
URL each prints, and stops them at the end. `peers.call(...)` signs a request the way the
platform does (written out here, not imported, so the tests check the documented scheme).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("agencies", "bank", "register", "sms")
AGENCIES = ("fns", "sfr", "mvd", "edu-27", "fri")
SYSTEM = "social-treasury"
START_SECONDS = 20.0
SETTLE_SECONDS = 0.2
SLOW_SECONDS = 0.3
# What the session's peers are started with; `reset` puts it back.
DEFAULTS = {
    "error_share": 0.0,
    "slow_share": 0.0,
    "slow_seconds": SLOW_SECONDS,
    "down": False,
    "settle_seconds": SETTLE_SECONDS,
}
URL_RE = re.compile(r"http://\S+/")


@dataclass
class Answer:
    status: int
    body: Any


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def request(
    url: str,
    method: str = "GET",
    document: Any = None,
    *,
    secret: str | None = None,
    timestamp: float | None = None,
    signed_body: bytes | None = None,
    timeout: float = 10.0,
) -> Answer:
    """Send a request (signed when a secret is given) and return its status and JSON body.

    A connection closed without an answer raises (urllib's URLError or a ConnectionError)."""
    body = b"" if document is None else json.dumps(document, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        stamp = str(int(time.time() if timestamp is None else timestamp))
        headers |= {
            "X-System": SYSTEM,
            "X-Timestamp": stamp,
            "X-Signature": sign(secret, stamp, body if signed_body is None else signed_body),
        }
    sent = urllib.request.Request(
        url, data=body if document is not None else None, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(sent, timeout=timeout) as response:
            return Answer(response.status, json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, json.loads(exc.read() or b"null"))


@dataclass
class Peers:
    """Base URLs of the running peers and helpers to call them."""

    agencies: str
    bank: str
    register: str
    sms: str
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict, repr=False)

    def url(self, peer: str) -> str:
        """Return the base URL of a peer (agencies, bank, register, sms) or of one agency."""
        if peer in AGENCIES:
            return f"{self.agencies}{peer}/"
        return getattr(self, peer)

    def call(
        self, peer: str, method: str, path: str, document: Any = None, **kwargs: Any
    ) -> Answer:
        """Send a request signed with the peer's default secret (`demo-<code>`)."""
        kwargs.setdefault("secret", f"demo-{peer}")
        return request(self.url(peer) + path, method, document, **kwargs)

    def control(self, peer: str, **settings: Any) -> dict[str, Any]:
        """Change how unreliable a peer (or one agency) is; return its settings."""
        answer = request(self.url(peer) + "_control", "POST", settings)
        assert answer.status == 200, answer
        return answer.body

    def stats(self, peer: str) -> dict[str, Any]:
        """Return what a peer (or one agency) counted."""
        answer = request(self.url(peer) + "_stats")
        assert answer.status == 200, answer
        return answer.body

    def reset(self) -> None:
        """Put every peer back to the settings it was started with."""
        for name in NAMES:
            self.control(name, **DEFAULTS)


def peer_start(name: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start `manage.py peer name --port 0` and return the process and its base URL."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (read back if the peer fails)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "peer",
            name,
            "--port",
            "0",
            "--settle-seconds",
            str(SETTLE_SECONDS),
            "--slow-seconds",
            str(SLOW_SECONDS),
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        found = URL_RE.search(line)
        if found:
            log.close()
            return process, found.group(0)
    process.kill()
    process.wait()
    with log:
        log.seek(0)
        raise RuntimeError(f"peer {name} did not start within {START_SECONDS} s:\n{log.read()}")


def peer_stop(process: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """Ask a peer to stop (SIGTERM) and return its exit code; kill it if it does not."""
    process.terminate()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="session")
def peers() -> Iterator[Peers]:
    """The emulated peers as separate processes, for the whole session."""
    with ThreadPoolExecutor(len(NAMES)) as pool:
        starting = {name: pool.submit(peer_start, name) for name in NAMES}
    started: dict[str, tuple[subprocess.Popen[str], str]] = {}
    problems = []
    for name, future in starting.items():
        try:
            started[name] = future.result()
        except RuntimeError as exc:
            problems.append(str(exc))
    try:
        if problems:
            raise RuntimeError("\n".join(problems))
        yield Peers(
            **{name: url for name, (_p, url) in started.items()},
            processes={name: p for name, (p, _u) in started.items()},
        )
    finally:
        for process, _url in started.values():
            peer_stop(process)
