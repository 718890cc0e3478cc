"""Alipay keys and RSA2 signatures: key formats the SDK refuses made acceptable, the string to sign, two
signers, one verifier.

The SDK only loads PKCS#1 private keys (the "RSA PRIVATE KEY" PEM); the Alipay console and
OpenSSL 3 hand out PKCS#8 (the "PRIVATE KEY" PEM) or the bare Base64 body. ``load_app_key``
accepts all of them and answers the PKCS#1 PEM the SDK needs. RSA2 is RSASSA-PKCS1-v1_5 with SHA-256,
which is deterministic: the SDK's pure-Python signer and ``cryptography``'s give the same bytes.
"""
from __future__ import annotations

import abc
import base64
import binascii
import json
from collections.abc import Mapping

from alipay.aop.api.util.SignatureUtils import sign_with_rsa2
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

_WRAPPERS = ("PRIVATE KEY", "RSA PRIVATE KEY")
_PUBLIC_WRAPPERS = ("PUBLIC KEY", "RSA PUBLIC KEY")


def _pem(body: str, label: str) -> bytes:
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    body_lines = "\n".join(lines)
    return f"-----BEGIN {label}-----\n{body_lines}\n-----END {label}-----\n".encode("ascii")


def _candidates(text: str, labels: tuple[str, ...]) -> list[bytes]:
    """The PEM as given, or a bare Base64 body wrapped in each label in turn."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return [text.encode("ascii")]
    body = "".join(text.split())
    return [_pem(body, label) for label in labels]


def _load_private(text: str) -> RSAPrivateKey:
    for pem in _candidates(text, _WRAPPERS):
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if isinstance(key, RSAPrivateKey):
            return key
    raise ValueError("the Alipay app private key is not an unencrypted RSA key (PKCS#1 or PKCS#8 PEM)")


def _load_public(text: str) -> RSAPublicKey:
    for pem in _candidates(text, _PUBLIC_WRAPPERS):
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if isinstance(key, RSAPublicKey):
            return key
    raise ValueError("the Alipay public key is not an RSA public key (PEM or Base64 SubjectPublicKeyInfo)")


def load_app_key(text: str) -> tuple[RSAPrivateKey, str]:
    """The app private key from PKCS#1 / PKCS#8 PEM or bare Base64: the key and its PKCS#1 PEM for the SDK."""
    key = _load_private(text)
    pkcs1 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()).decode("ascii")
    return key, pkcs1


def load_alipay_public_key(text: str) -> tuple[RSAPublicKey, str]:
    """Alipay's public key from PEM (SPKI or PKCS#1) or bare Base64: the key and its SPKI PEM for the SDK."""
    key = _load_public(text)
    spki = key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return key, spki


def sign_content(params: Mapping[str, object]) -> str:
    """The string Alipay signs: ``k=v`` sorted by name and joined by ``&``, empty values left out.

    That is the gateway's rule for requests and notifications alike (the Java SDK's ``getSignContent``
    and ``getSignCheckContentV1`` skip a value that is empty or only white space); the Python SDK's
    ``get_sign_content`` writes ``k=`` instead, so a request or notification with an empty
    parameter would not verify.
    """
    parts = []
    for key, value in sorted(params.items()):
        text = value if isinstance(value, str) or value is None else json.dumps(value, ensure_ascii=False)
        if key.strip() and text and text.strip():
            parts.append(f"{key}={text}")
    return "&".join(parts)


class Signer(abc.ABC):
    """Makes the RSA2 ``sign`` of a request's sign content."""

    name = "abstract"

    @abc.abstractmethod
    def sign(self, content: str, charset: str = "utf-8") -> str:
        """Base64 SHA256withRSA signature of content."""


class SdkSigner(Signer):
    """The SDK's own ``sign_with_rsa2`` (pure-Python ``rsa``; it re-parses the PEM on every call)."""

    name = "sdk"

    def __init__(self, pkcs1_pem: str):
        self._pem = pkcs1_pem

    def sign(self, content: str, charset: str = "utf-8") -> str:
        """Sign with the SDK's function, exactly as DefaultAlipayClient does."""
        return sign_with_rsa2(self._pem, content, charset)


class FastSigner(Signer):
    """OpenSSL through ``cryptography``: the same PKCS#1 v1.5 SHA-256 signature, about 20 times faster."""

    name = "cryptography"

    def __init__(self, key: RSAPrivateKey):
        self._key = key

    def sign(self, content: str, charset: str = "utf-8") -> str:
        """Sign with OpenSSL."""
        signature = self._key.sign(content.encode(charset), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")


SIGNERS = {"sdk": SdkSigner, "cryptography": FastSigner}


def make_signer(name: str, key: RSAPrivateKey, pkcs1_pem: str) -> Signer:
    """The signer called name ("cryptography", the default, or "sdk")."""
    if name == "sdk":
        return SdkSigner(pkcs1_pem)
    if name == "cryptography":
        return FastSigner(key)
    raise ValueError(f"unknown Alipay signer {name!r}: choose one of {sorted(SIGNERS)}")


def verify_rsa2(key: RSAPublicKey, content: str, sign: str, charset: str = "utf-8") -> bool:
    """True when sign is an RSA2 (SHA256withRSA) signature of content by key; False for anything else.

    Not the SDK's ``verify_with_rsa``: it raises instead of answering False, and it also accepts a
    SHA-1 (RSA) signature, which an RSA2 merchant must refuse.
    """
    try:
        signature = base64.b64decode(sign, validate=True)
        key.verify(signature, content.encode(charset), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError, TypeError, UnicodeError):
        return False
    return True
