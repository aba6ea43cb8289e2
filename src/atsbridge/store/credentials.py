"""Integration credentials at rest: AES-GCM with a fresh nonce per value and the integration id as associated data,
so a ciphertext copied onto another integration's row does not decrypt."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


@dataclass(frozen=True)
class RecruCredentials:
    login: str
    password: str


def encrypt_credentials(key: bytes, integration_id: str, credentials: RecruCredentials) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(asdict(credentials)).encode()
    return nonce + AESGCM(key).encrypt(nonce, plaintext, integration_id.encode())


def decrypt_credentials(key: bytes, integration_id: str, blob: bytes) -> RecruCredentials:
    plaintext = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], integration_id.encode())
    return RecruCredentials(**json.loads(plaintext))
