"""Emulated peers the platform calls (docs/peers.md): data providers, a bank, the federal
register and an SMS gateway, each a small HTTP server in its own process (`manage.py peer`)."""

from __future__ import annotations

from emulators.peers.agencies import AGENCIES, Agencies
from emulators.peers.bank import Bank
from emulators.peers.register import Register
from emulators.peers.server import Faults, Peer, PeerServer
from emulators.peers.sms import SmsGateway

PEERS: dict[str, type[Peer]] = {
    "agencies": Agencies,
    "bank": Bank,
    "register": Register,
    "sms": SmsGateway,
}
# The systems each peer holds, by the code its secret is given under (`--secrets code=...`).
CODES: dict[str, tuple[str, ...]] = {
    "agencies": tuple(AGENCIES),
    "bank": ("bank",),
    "register": ("register",),
    "sms": ("sms",),
}


def peer_build(
    *, name: str, faults: Faults, secrets: dict[str, str] | None = None, seed: int | None = None
) -> Peer:
    """Return a peer; a system's secret is `demo-<code>` unless secrets give another."""
    chosen = {code: f"demo-{code}" for code in CODES[name]} | (secrets or {})
    return PEERS[name](secrets=chosen, faults=faults, seed=seed)


__all__ = ["CODES", "PEERS", "Faults", "Peer", "PeerServer", "peer_build"]
