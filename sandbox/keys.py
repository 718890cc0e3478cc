"""Keys and secrets the sandbox gateways and our merchant share, made at set-up, never committed.

``ensure(directory)`` creates them once (RSA 2048 pairs as PEM files, symmetric secrets in
``secrets.json``) and answers where they are; calling it again reuses what is there. ``make run``
keeps them in ``var/keys``; tests make their own in a temporary directory.

Who holds what, as with the real gateways:

* ``merchant_*`` — the hospital's WeChat Pay merchant key pair: we sign API v3 requests and
  ``paySign`` with the private key; the simulator verifies with the public key (its serial number
  ``merchant_serial`` stands for the merchant certificate's).
* ``wechatpay_platform_*`` — the WeChat Pay platform key (微信支付公钥): the simulator signs
  responses and notifications, we verify with the public key and its id ``wechatpay_public_key_id``.
* ``alipay_app_*`` — the hospital's Alipay application key (the private key PKCS#1, as the
  official SDK needs); ``alipay_platform_*`` — Alipay's own key, signing responses and notifications.
* ``secrets.json`` — the API v3 key (AES-256-GCM of notifications), the API v2 key (MD5 /
  HMAC-SHA256 signatures), merchant and app ids; the Tencent Cloud API key pair of the SMS
  simulator (``sms_secret_id`` / ``sms_secret_key``, TC3-HMAC-SHA256) and its SMS application
  (``sms_sdk_app_id``, ``sms_sign_name``, ``sms_template_id``). Secrets added in a later version
  are added to an older ``secrets.json`` on the next ``ensure``; the ones there are kept.
"""
from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_PAIRS = {
    "merchant": serialization.PrivateFormat.PKCS8,
    "wechatpay_platform": serialization.PrivateFormat.PKCS8,
    "alipay_app": serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1: the Alipay SDK refuses PKCS#8
    "alipay_platform": serialization.PrivateFormat.TraditionalOpenSSL,
}


@dataclass(frozen=True)
class SandboxKeys:
    """Paths of the PEM files and the shared secrets."""

    directory: str
    secrets: dict

    def private_key_path(self, pair: str) -> str:
        """PEM file of a pair's private key."""
        return os.path.join(self.directory, f"{pair}_private.pem")

    def public_key_path(self, pair: str) -> str:
        """PEM file of a pair's public key (SubjectPublicKeyInfo)."""
        return os.path.join(self.directory, f"{pair}_public.pem")

    def private_key(self, pair: str) -> str:
        """A pair's private key as PEM text."""
        with open(self.private_key_path(pair), encoding="ascii") as fh:
            return fh.read()

    def public_key(self, pair: str) -> str:
        """A pair's public key as PEM text."""
        with open(self.public_key_path(pair), encoding="ascii") as fh:
            return fh.read()


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _new_secrets() -> dict:
    return {
        "wechatpay_mchid": "1900000109",
        "wechatpay_appid": "wx-sandbox-appid",
        "merchant_serial": secrets.token_hex(20).upper(),
        "wechatpay_public_key_id": "PUB_KEY_ID_" + secrets.token_hex(12).upper(),
        "apiv3_key": _random_text(32),
        "apiv2_key": _random_text(32),
        "alipay_app_id": "2021000000000001",
        "alipay_seller_id": "2088000000000001",
        # Tencent Cloud keys look like this: an "AKID" id of 36 characters, a key of 32.
        "sms_secret_id": "AKID" + _random_text(32),
        "sms_secret_key": _random_text(32),
        "sms_sdk_app_id": "1400000001",
        "sms_sign_name": "医桥示范医院",
        "sms_template_id": "1000001",
    }


def _write_pair(directory: str, pair: str, private_format) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    for suffix, data in (("private", private), ("public", public)):
        path = os.path.join(directory, f"{pair}_{suffix}.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def ensure(directory: str) -> SandboxKeys:
    """Create the sandbox keys in directory unless they are there; answer them."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    for pair, private_format in _PAIRS.items():
        if not os.path.exists(os.path.join(directory, f"{pair}_public.pem")):
            _write_pair(directory, pair, private_format)
    secrets_path = os.path.join(directory, "secrets.json")
    held: dict = {}
    if os.path.exists(secrets_path):
        with open(secrets_path, encoding="utf-8") as fh:
            held = json.load(fh)
    # Keys made by an older version stay; only what it did not know yet is added.
    merged = {**_new_secrets(), **held}
    if merged != held:
        fd = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(merged, fh, indent=2, ensure_ascii=False)
    return SandboxKeys(directory, merged)
