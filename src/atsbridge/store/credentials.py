"""Secrets at rest: AES-GCM with a fresh nonce per value and the owning row's id as associated data, so a ciphertext
copied onto another row does not decrypt. ``seal``/``unseal`` are the one implementation; integration credentials
(bound to the integration id) and webhook secrets (bound to the environment id) both use them."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


@dataclass(frozen=True)
class RecruCredentials:
    login: str
    password: str


def seal(key: bytes, owner_id: str, plaintext: bytes) -> bytes:
    """``nonce + AES-GCM(plaintext)`` under ``key``, bound to ``owner_id``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, owner_id.encode())


def unseal(key: bytes, owner_id: str, blob: bytes) -> bytes:
    """The plaintext of ``seal(key, owner_id, …)``; raises ``cryptography.exceptions.InvalidTag`` otherwise."""
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], owner_id.encode())


def encrypt_credentials(key: bytes, integration_id: str, credentials: RecruCredentials) -> bytes:
    return seal(key, integration_id, json.dumps(asdict(credentials)).encode())


class CredentialsUnreadable(Exception):
    """Stored credentials this process's key does not decrypt: it is not the key they were saved with."""

    def __init__(self, what: str = "the integration's stored RECRU credentials") -> None:
        super().__init__(
            f"{what} cannot be decrypted: this process's secret key (ATSBRIDGE_SECRET_KEY, or secret.key in its "
            "data dir) is not the one they were saved with; every API process and worker must use the same one"
        )


def decrypt_credentials(key: bytes, integration_id: str, blob: bytes) -> RecruCredentials:
    """The credentials sealed by ``encrypt_credentials``; ``CredentialsUnreadable`` under another key."""
    try:
        plaintext = unseal(key, integration_id, blob)
    except InvalidTag:
        raise CredentialsUnreadable from None
    return RecruCredentials(**json.loads(plaintext))
