"""TC3-HMAC-SHA256 as the SMS simulator computes it, against Tencent Cloud's published example.

The example is the one of the "Signature v3" page of the Tencent Cloud API 3.0 documentation
(CVM DescribeInstances, GET ?Limit=10&Offset=0, X-TC-Timestamp 1539084154, the documentation's
SecretKey "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"), with the digests that page prints.
"""
from __future__ import annotations

import json
import time

from tencentcloud.common.sign import Sign

from sandbox.sms import signing

DOC_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
DOC_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
DOC_TIMESTAMP = 1539084154
DOC_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Host": "cvm.tencentcloudapi.com"}
DOC_HASHED_CANONICAL = "91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7"
DOC_SIGNATURE = "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474"


def _doc_canonical() -> str:
    return signing.canonical_request("GET", "/", "Limit=10&Offset=0", DOC_HEADERS, ("content-type", "host"), b"")


def test_the_canonical_request_and_string_to_sign_match_the_published_example():
    assert signing.utc_date(DOC_TIMESTAMP) == "2018-10-09"
    to_sign = signing.string_to_sign(DOC_TIMESTAMP, "2018-10-09", "cvm", _doc_canonical())
    assert to_sign == f"TC3-HMAC-SHA256\n1539084154\n2018-10-09/cvm/tc3_request\n{DOC_HASHED_CANONICAL}"


def test_the_signature_matches_the_published_example():
    to_sign = signing.string_to_sign(DOC_TIMESTAMP, "2018-10-09", "cvm", _doc_canonical())
    assert signing.signature(DOC_SECRET_KEY, "2018-10-09", "cvm", to_sign) == DOC_SIGNATURE
    # and the official SDK's own signer agrees on the same string
    assert Sign.sign_tc3(DOC_SECRET_KEY, "2018-10-09", "cvm", to_sign) == DOC_SIGNATURE


def test_the_credential_date_is_the_utc_date_not_chinas():
    # 2019-02-26 00:44:25 in Beijing is still the 25th in UTC, as the documentation warns.
    assert signing.utc_date(1551113065) == "2019-02-25"


def test_the_published_authorization_header_parses():
    header = (f"TC3-HMAC-SHA256 Credential={DOC_SECRET_ID}/2018-10-09/cvm/tc3_request, "
              f"SignedHeaders=content-type;host, Signature={DOC_SIGNATURE}")
    auth = signing.parse_authorization(header)
    assert (auth.secret_id, auth.date, auth.service, auth.signed_headers, auth.signature) == (
        DOC_SECRET_ID, "2018-10-09", "cvm", ("content-type", "host"), DOC_SIGNATURE)
    assert signing.parse_authorization("TC3-HMAC-SHA256 Credential=x") is None
    assert signing.parse_authorization(None) is None


def test_headers_signed_by_hand_verify_like_the_sdk_signs_them():
    body = json.dumps({"SmsSdkAppId": "1400000001"}).encode()
    now = int(time.time())
    headers = signing.sign_headers("AKIDabc", "key", "sms", "127.0.0.1:8107", now, body)
    date = signing.utc_date(now)
    canonical = signing.canonical_request("POST", "/", "", headers, ("content-type", "host"), body)
    expected = Sign.sign_tc3("key", date, "sms", signing.string_to_sign(now, date, "sms", canonical))
    assert headers["Authorization"].endswith(f"Signature={expected}")
