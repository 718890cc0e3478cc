"""Personal data at rest: AES-256-GCM encryption, a keyed blind index for look-ups, masking."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class DataCipher:
    """Encrypts short strings (ID numbers, phones) with a key from config."""

    def __init__(self, key_b64: str):
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("DATA_KEY must be 32 bytes, base64-encoded")
        self._aead = AESGCM(hashlib.sha256(b"yiqiao-enc" + key).digest())
        self._index_key = hashlib.sha256(b"yiqiao-idx" + key).digest()

    def encrypt(self, plaintext: str, context: str = "") -> str:
        """Encrypt; the context (e.g. the column name) is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return base64.b64encode(_VERSION + nonce + sealed).decode()

    def decrypt(self, token: str, context: str = "") -> str:
        """Decrypt a value produced by encrypt with the same context."""
        raw = base64.b64decode(token)
        if raw[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(raw[1:13], raw[13:], context.encode()).decode()

    def blind_index(self, value: str) -> str:
        """A keyed hash to find a record by value without storing the value."""
        return hmac.new(self._index_key, value.upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """110101199003071234 → 110101************: at most the region code shows, never the last digits.

    Answers carry the birthday and gender beside the mask; with them the last four (sequence and
    check digit) would give the whole number away. Hidden, the sequence still fits 500 numbers.
    Other documents (passports, permits) show at most their first characters, at least 12 hidden.
    """
    shown = min(6, max(0, len(value) - 12))
    return value[:shown] + "*" * (len(value) - shown)


def mask_phone(value: str) -> str:
    """13912345678 → 139****5678."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张三丰 → 张*丰; 李四 → 李*."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
