"""Mutual TLS for the simulator's ``/secapi/`` (v2 refund and reverse need the merchant certificate).

``ensure_tls(keys)`` makes, once, next to the other sandbox keys (never committed): a sandbox CA,
a server certificate for 127.0.0.1/localhost, and the merchant's API certificate
(``apiclient_cert.pem``) over the merchant key pair, as WeChat Pay issues it (CN = the merchant
id). ``server_context`` asks every client for a certificate signed by that CA (optional at the
TLS layer, so v3 and the rest of v2 work without one); the app refuses ``/secapi/`` without it.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAYS = 3650


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files."""

    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str  # the merchant API certificate (apiclient_cert.pem)
    client_key: str  # the merchant private key (apiclient_key.pem)


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def _issue(subject: x509.Name, public_key, issuer: x509.Name, issuer_key, *, ca: bool = False,
           usage=None, san=None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=DAYS))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_tls(keys) -> TlsFiles:
    """The sandbox CA and certificates for keys (a sandbox.keys.SandboxKeys), made once."""
    directory = os.path.join(keys.directory, "wechatpay_tls")
    files = TlsFiles(*(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key",
                                                            "apiclient_cert.pem")),
                     client_key=keys.private_key_path("merchant"))
    if os.path.exists(files.client_cert):
        return files
    os.makedirs(directory, mode=0o700, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("Yiqiao Sandbox WeChat Pay CA", "Yiqiao Sandbox")
    ca = _issue(ca_name, ca_key.public_key(), ca_name, ca_key, ca=True)
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = _issue(_name("127.0.0.1", "Yiqiao Sandbox"), server_key.public_key(), ca_name, ca_key,
                    usage=ExtendedKeyUsageOID.SERVER_AUTH,
                    san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    merchant_key = serialization.load_pem_private_key(keys.private_key("merchant").encode(), password=None)
    client = _issue(_name(keys.secrets["wechatpay_mchid"], "微信商户系统"), merchant_key.public_key(), ca_name, ca_key,
                    usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    _write(files.ca_cert, _pem(ca))
    _write(files.server_cert, _pem(server))
    _write(files.server_key, _key_pem(server_key))
    _write(files.client_cert, _pem(client))  # written last: its presence means the set is complete
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """TLS server context: our server certificate, client certificates from the sandbox CA welcome."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    context.load_verify_locations(files.ca_cert)
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def client_merchant_id(pem: str | None) -> str | None:
    """The merchant id (CN) of the verified client certificate werkzeug put in SSL_CLIENT_CERT."""
    if not pem:
        return None
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None
