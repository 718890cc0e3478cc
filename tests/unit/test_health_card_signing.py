"""The request signature, against examples computed by hand (the text written out, the digest by openssl).

    printf '%s' '<content><secret>' | openssl dgst -sha256 -binary | base64

Both implementations are checked: the client's (health_card.signing) and the simulator's
(sandbox.healthcard.signing), which is written separately on purpose.
"""
from __future__ import annotations

import pytest

from health_card.signing import sign, sign_content, sign_request, signed_params
from sandbox.healthcard.signing import expected_sign, sign_matches

COMMON_IN = {"appToken": "T0KEN", "requestId": "r-1", "hospitalId": "10001", "timestamp": "1764640000",
             "channelNum": 1, "sign": "whatever was there before"}
REQ = {"qrCodeText": "ABC:1:DEF", "name": "张三", "patid": "", "phone2": None, "items": [],
       "ext": {"b": 1, "a": "x"}, "flag": True}
CONTENT = ('appToken=T0KEN&channelNum=1&ext={"b":1,"a":"x"}&flag=true&hospitalId=10001&name=张三'
           '&qrCodeText=ABC:1:DEF&requestId=r-1&timestamp=1764640000')
SIGN = "vs5t8/lUU833zRXfAgcBSVE6OHmRg+yy+qnb4klkPeI="  # openssl over CONTENT + "s3cr3t"


def test_the_content_is_merged_sorted_and_without_empties_or_sign():
    assert sign_content(signed_params(COMMON_IN, REQ)) == CONTENT


def test_the_client_sign_matches_the_hand_computed_one():
    assert sign_request(COMMON_IN, REQ, "s3cr3t") == SIGN


def test_the_simulator_expects_the_same_sign():
    assert expected_sign(COMMON_IN, REQ, "s3cr3t") == SIGN
    assert sign_matches({**COMMON_IN, "sign": SIGN}, REQ, "s3cr3t")


def test_an_app_token_request_signs_without_the_empty_token():
    common_in = {"appToken": "", "requestId": "abc", "hospitalId": "10001", "timestamp": "1700000000",
                 "channelNum": 1}
    # openssl over 'appId=hc-sandbox-appid&channelNum=1&hospitalId=10001&requestId=abc&timestamp=1700000000wx'
    assert sign_request(common_in, {"appId": "hc-sandbox-appid"}, "wx") == \
        "2ypGKWiSjjsTdza9FH7KT/p4W6/ZbO79K7/rYZKGDhQ="


@pytest.mark.parametrize("change", [
    {"qrCodeText": "ABC:1:DEG"}, {"name": "张四"}, {"flag": False}, {"ext": {"a": "x", "b": 1}}, {"patid": "7"},
])
def test_any_change_of_a_signed_value_breaks_the_sign(change):
    assert not sign_matches({**COMMON_IN, "sign": SIGN}, {**REQ, **change}, "s3cr3t")
    assert sign_request(COMMON_IN, {**REQ, **change}, "s3cr3t") != SIGN


def test_another_secret_or_no_sign_is_refused():
    assert not sign_matches({**COMMON_IN, "sign": SIGN}, REQ, "s3cr3t!")
    assert not sign_matches({k: v for k, v in COMMON_IN.items() if k != "sign"}, REQ, "s3cr3t")


def test_a_req_field_wins_a_name_clash_with_common_in():
    assert signed_params({"hospitalId": "1", "sign": "x"}, {"hospitalId": "2"}) == {"hospitalId": "2"}
    assert sign({"b": "2", "a": "1"}, "") == sign({"a": "1", "b": "2"}, "")
