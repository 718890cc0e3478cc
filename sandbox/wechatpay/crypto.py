"""The simulator's own copy of WeChat Pay's cryptography (it imports nothing of ours, by design).

v3: RSA-SHA256 (PKCS#1 v1.5) signatures over newline-joined strings, AES-256-GCM resources.
v2: MD5 / HMAC-SHA256 ``sign`` over the sorted non-empty fields plus ``&key=``; refund
``req_info`` in AES-256-ECB keyed with md5(API key) hex, PKCS#7 padded.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def rsa_sign(private_key, text: str) -> str:
    """Base64 RSA-SHA256 signature of text."""
    return base64.b64encode(private_key.sign(text.encode("utf-8"), rsa_padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key, text: str, signature: str) -> bool:
    """Whether signature (base64) is public_key's RSA-SHA256 signature of text."""
    try:
        public_key.verify(base64.b64decode(signature, validate=True), text.encode("utf-8"),
                          rsa_padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def gcm_encrypt(key: str, plaintext: str, associated_data: str) -> dict:
    """An ``encrypt-resource`` object: AEAD_AES_256_GCM with a fresh 12-character nonce."""
    nonce = secrets.token_hex(6)
    sealed = AESGCM(key.encode()).encrypt(nonce.encode(), plaintext.encode("utf-8"), associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": associated_data, "nonce": nonce}


def v2_sign(fields: dict, key: str, sign_type: str = "MD5") -> str:
    """The v2 ``sign`` of fields (MD5 or HMAC-SHA256)."""
    text = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign" and fields[k] not in (None, ""))
    text = f"{text}&key={key}".encode()
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), text, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text).hexdigest().upper()  # noqa: S324 - the protocol's MD5 signature


def v2_sign_ok(fields: dict, key: str, sign_type: str) -> bool:
    """Whether fields carry the right ``sign`` for sign_type."""
    return hmac.compare_digest(v2_sign(fields, key, sign_type), str(fields.get("sign", "")))


def ecb_encrypt(api_key: str, plaintext: str) -> str:
    """Refund notification ``req_info``: base64 AES-256-ECB, key md5(api_key) hex, PKCS#7."""
    key = hashlib.md5(api_key.encode()).hexdigest().encode()  # noqa: S324 - protocol's key derivation
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the protocol's ECB
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()
