"""The platform's signature on what it decides and certifies: Ed25519 over canonical JSON.

The private key is read from PLATFORM_SIGNING_KEY_FILE (PEM, PKCS#8); in the demo and tests a
key is made there on first use. Anyone can check a signature with the public key, which the
API publishes with its id (the first 16 hex digits of the SHA-256 of the raw public key).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder


def canonical(content: Any) -> bytes:
    """The bytes that are signed: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(
        content, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_raw).hexdigest()[:16]

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()


@functools.cache
def signing_key() -> SigningKey:
    """The platform's key, made on first use where the settings allow (demo and tests)."""
    path = Path(settings.PLATFORM_SIGNING_KEY_FILE)
    if not path.exists():
        if not settings.PLATFORM_SIGNING_KEY_CREATE:
            raise FileNotFoundError(f"No platform signing key at {path}.")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written once, readable by the owner only; a concurrent first use keeps the first.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key.")
    return SigningKey(private)


def sign(content: Any) -> tuple[str, str]:
    """Sign content; return the signature (base64) and the key's id."""
    key = signing_key()
    return base64.b64encode(key.private.sign(canonical(content))).decode(), key.key_id


def signature_valid(content: Any, signature: str, *, public_b64: str | None = None) -> bool:
    """Tell whether signature is the platform's (or public_b64's) over content."""
    raw = base64.b64decode(public_b64) if public_b64 else signing_key().public_raw
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(signature), canonical(content)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
