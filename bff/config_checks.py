"""The production start-up check: refuse to run with sandbox parts, known or weak secrets, or sandbox URLs.

Only two running modes exist. `development` (any case) is a developer's own machine: `make run`, the
tests and the bench say so themselves. Everything else runs the checks, and anything but
`production` (any case) is refused outright: `Production`, `prod`, `staging` or a typo must never
start with sandbox secrets (a staging server runs as production, with its own keys).

The checks judge the configuration, never whether the outside systems answer: the BFF starts
while the HIS is down, and /readyz says so.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import socket
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bff import secret_scan
from bff.secret_strength import Rule, weaknesses

ENV_NAMES = ("production", "development")

# Secrets held as text: setting -> (rule, the gateway that needs it; None: always needed).
TEXT_SECRETS = {
    "SECRET_KEY": (Rule(32, 80), None),
    "WX_SECRET": (Rule(32, 80), None),  # the mini-program AppSecret: 32 hex characters
    "HEALTH_CARD_APP_SECRET": (Rule(16, 40), None),
    "WXPAY_APIV3_KEY": (Rule(32, 80), "wechatpay_v3"),  # 32 characters, AES-256-GCM
    "WXPAY_V2_API_KEY": (Rule(32, 80), "wechatpay_v2"),
}
DATA_KEY_RULE = Rule(32, 120)  # judged on the 32 decoded bytes
# Key files: setting -> (private?, the gateway that needs it; None: needed by none, judged when set).
KEY_FILES = {
    "WXPAY_PRIVATE_KEY_FILE": (True, "wechatpay_v3"),
    "WXPAY_V2_KEY_FILE": (True, None),
    "ALIPAY_APP_PRIVATE_KEY_FILE": (True, "alipay"),
    # A sandbox gateway's public key would let whoever holds its private half forge notifications.
    "WXPAY_PUBLIC_KEY_FILE": (False, "wechatpay_v3"),
    "ALIPAY_PUBLIC_KEY_FILE": (False, "alipay"),
}
MIN_RSA_BITS = 2048
# Settings added later (SMS, courier …) are judged by their name when set: a secret of at least 16
# characters, or a private key file.
SECRET_SUFFIXES = ("_SECRET", "_SECRET_KEY", "_API_KEY", "_APP_KEY", "_PASSWORD")
GENERIC_SECRET_RULE = Rule(16, 40)
PRIVATE_KEY_FILE_SUFFIX = "_PRIVATE_KEY_FILE"

# URLs of outside systems: every setting named *_URL, *_API_BASE or *_ENDPOINT, except these local services.
URL_SUFFIXES = ("_URL", "_API_BASE", "_ENDPOINT")
LOCAL_SERVICES = frozenset({"REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "RATELIMIT_STORAGE_URI"})
INTRANET_PREFIXES = ("HIS_",)  # on the hospital's own network: plain http and any port are fine
ONLY_WITH = {"PAYMENT_NOTIFY_BASE_URL": "PAYMENT_GATEWAYS"}  # judged only when that setting is set
PUBLIC_ONLY = frozenset({"PAYMENT_NOTIFY_BASE_URL"})  # the gateways reach it from the internet
SANDBOX_PORTS = range(8101, 8120)  # the simulators' default ports (sandbox/__main__.py PORTS)
# Our simulators' hosts, and the gateways' own test environments (Alipay's alipaydev.com, WeChat Pay's
# /sandboxnew/ and /xdc/apiv2sandbox/ paths).
SANDBOX_HOST_WORDS = ("sandbox", "simulator", "alipaydev")


def env_name(raw: str | None) -> str:
    """YIQIAO_ENV as the checks read it: unset is production (fail closed), case and spaces ignored."""
    return (raw or "production").strip().lower() or "production"


def check(config: dict, root: str = secret_scan.PROJECT_ROOT) -> None:
    """Raise RuntimeError listing every problem at once, unless development; never quotes a secret."""
    if env_name(config.get("ENV_NAME")) == "development":
        return
    found = problems(config, root)
    if found:
        raise RuntimeError("refusing to start in production, fix these settings:\n"
                           + "\n".join(f"  - {problem}" for problem in found))


def problems(config: dict, root: str = secret_scan.PROJECT_ROOT) -> list[str]:
    """Every reason this configuration may not run in production (empty: it may)."""
    by_setting = sorted([*_infrastructure_problems(config), *_secret_problems(config, root), *_url_problems(config)],
                        key=lambda problem: problem.split(" ", 1)[0])  # stable: one setting's problems together
    return [*_env_problems(config), *by_setting]


def _env_problems(config: dict) -> list[str]:
    name = env_name(config.get("ENV_NAME"))
    if name in ENV_NAMES:
        return []
    shown = repr(str(config.get("ENV_NAME"))[:40])
    return [f"YIQIAO_ENV is {shown}: only production or development (any case) are accepted; "
            "a staging server runs as production with its own keys"]


def _infrastructure_problems(config: dict) -> list[str]:
    found = []
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        found.append("DATABASE_URL must be PostgreSQL (SQLite is for the sandbox)")
    if config.get("HIS_ADAPTER") == "memory":
        found.append("HIS_ADAPTER must name the hospital's HIS (memory is the demo one)")
    if "dummy" in str(config.get("PAYMENT_GATEWAYS", "")):
        found.append("PAYMENT_GATEWAYS must name real gateways (the dummy one takes no money)")
    return found


def _gateways(config: dict) -> set[str]:
    return {name.strip() for name in str(config.get("PAYMENT_GATEWAYS") or "").split(",") if name.strip()}


def _text_secrets(config: dict) -> dict[str, tuple]:
    """The table, plus every other setting a secret's name says it is."""
    more = {name: (GENERIC_SECRET_RULE, None) for name, value in config.items()
            if name.endswith(SECRET_SUFFIXES) and name not in TEXT_SECRETS and isinstance(value, str) and value}
    return {**TEXT_SECRETS, **more}


def _key_files(config: dict) -> dict[str, tuple]:
    more = {name: (True, None) for name, value in config.items()
            if name.endswith(PRIVATE_KEY_FILE_SUFFIX) and name not in KEY_FILES and isinstance(value, str) and value}
    return {**KEY_FILES, **more}


def _secret_problems(config: dict, root: str) -> list[str]:
    found, needles, skip = [], {}, set()
    gateways = _gateways(config)
    for name, (rule, needed_by) in _text_secrets(config).items():
        value = config.get(name) or ""
        if not value:
            if needed_by is None or needed_by in gateways:
                found.append(f"{name} is not set")
            continue
        found += [f"{name} {weakness}" for weakness in weaknesses(value, rule)]
        needles[name] = [value.encode()]
    found += _data_key_problems(config.get("DATA_KEY") or "", needles)
    for name, (private, needed_by) in _key_files(config).items():
        path = config.get(name) or ""
        if not path:
            if needed_by is not None and needed_by in gateways:
                found.append(f"{name} is not set")
            continue
        skip.add(os.path.realpath(path))
        found += _key_file_problems(name, path, private, needles)
    for name, where in secret_scan.find(needles, root, skip).items():
        found.append(f"{name} is written in {where}: everyone who has the repository or the sandbox's keys "
                     "knows it; make a new one")
    return found


def _data_key_problems(value: str, needles: dict) -> list[str]:
    if not value:
        return ["DATA_KEY is not set"]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    needles["DATA_KEY"] = secret_scan.data_key_forms(value)
    if len(raw) != 32:
        return ["DATA_KEY must be 32 random bytes, base64-encoded"]
    return [f"DATA_KEY (decoded) {weakness}" for weakness in weaknesses(raw, DATA_KEY_RULE)]


def _key_file_problems(name: str, path: str, private: bool, needles: dict) -> list[str]:
    """Judge a PEM key file: readable, RSA of at least 2048 bits; remember its forms for the repository scan."""
    try:
        with open(path, "rb") as fh:
            text = fh.read()
    except OSError as error:
        return [f"{name} cannot be read ({type(error).__name__})"]
    forms = secret_scan.key_forms(text)
    key = _load_rsa(text, private)
    if key is None:
        needles[name] = forms
        return [f"{name} is not an unencrypted RSA {'private' if private else 'public'} key in PEM"]
    public = key.public_key() if private else key
    for encoding, form in _der_forms(private):
        der = (key.private_bytes(encoding, form, serialization.NoEncryption()) if private
               else key.public_bytes(encoding, form))
        forms.append(base64.b64encode(der))
    needles[name] = forms
    if public.key_size < MIN_RSA_BITS:
        return [f"{name} is a {public.key_size}-bit key; at least {MIN_RSA_BITS} bits are needed"]
    return []


def _load_rsa(text: bytes, private: bool):
    """The RSA key in a PEM file, or in a bare base64 body as Alipay's tools write it; None if neither."""
    labels = ("PRIVATE KEY", "RSA PRIVATE KEY") if private else ("PUBLIC KEY", "RSA PUBLIC KEY")
    body = b"".join(text.split())
    candidates = [text] if b"-----BEGIN" in text else [
        b"-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label.encode(), body, label.encode()) for label in labels]
    for pem in candidates:
        try:
            # Only its public numbers and layouts are needed here; the gateway checks the key fully when built.
            key = (serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
                   if private else serialization.load_pem_public_key(pem))
        except Exception:  # noqa: BLE001, S112 -- any failure means "not a usable key"; try the next wrapping
            continue
        if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            return key
    return None


def _der_forms(private: bool) -> list[tuple]:
    """The same key in the other DER layouts (PKCS#1 and PKCS#8 / SubjectPublicKeyInfo)."""
    der = serialization.Encoding.DER
    if private:
        return [(der, serialization.PrivateFormat.PKCS8), (der, serialization.PrivateFormat.TraditionalOpenSSL)]
    return [(der, serialization.PublicFormat.SubjectPublicKeyInfo), (der, serialization.PublicFormat.PKCS1)]


def _url_settings(config: dict) -> list[str]:
    """The settings naming an outside system's URL that are set (and needed)."""
    names = [name for name, value in config.items()
             if isinstance(value, str) and value and name.endswith(URL_SUFFIXES) and name not in LOCAL_SERVICES
             and not name.startswith(("OPENAPI_", "SQLALCHEMY_"))]
    return sorted(name for name in names if name not in ONLY_WITH or config.get(ONLY_WITH[name]))


def _url_problems(config: dict) -> list[str]:
    found = []
    for name in _url_settings(config):
        reason = url_problem(name, config[name])
        if reason:
            found.append(f"{name} {reason}")
    return found


def _host_address(host: str):
    """The IP address a host names literally (127.1 and 2130706433 included), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.ip_address(socket.inet_aton(host))
    except OSError:
        return None


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _host_address(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address is not None and (address.is_loopback or address.is_unspecified)


def url_problem(name: str, url: str) -> str | None:
    """Why an outside system's URL may not be used in production (None: it may)."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "is not a URL"
    intranet = name.startswith(INTRANET_PREFIXES)
    if parts.scheme not in ("http", "https") or not host:
        return "is not an http(s) URL"
    if _is_loopback(host):
        return "points at this machine (loopback), where the sandbox runs, not at the real service"
    if any(word in host.lower() for word in SANDBOX_HOST_WORDS) or "sandbox" in parts.path.lower():
        return "points at a sandbox, not at the real service"
    if not intranet and port in SANDBOX_PORTS:
        return f"uses port {port}, a sandbox simulator's"
    if not intranet and parts.scheme != "https":
        return "must be https (it crosses the internet)"
    address = _host_address(host)
    if name in PUBLIC_ONLY and address is not None and not address.is_global:
        return "must be the BFF's public https base (the gateways post to it from the internet)"
    return None
