"""Log lines never carry ID numbers, phones, trade numbers or secrets, whatever shape the values take."""
from __future__ import annotations

import datetime as dt
import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from bff.logs import JsonLineFormatter, scrub_field
from tests.fakes import resident_id


def _digits(n: int, first: str = "") -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n - len(first), max_size=n - len(first)).map(lambda s: first + s)


wechat_transaction_id = _digits(28, "42")  # WeChat Pay: 28 digits
alipay_trade_no = st.integers(2015, 2035).flatmap(lambda year: _digits(28, str(year)))  # 28 digits, the year first
our_trade_no = st.tuples(st.sampled_from(["YQ", "YR"]), _digits(14), st.text("0123456789ABCDEF", min_size=10,
                                                                              max_size=10)).map("".join)
birthdays = st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)).map(lambda d: d.strftime("%Y%m%d"))
id_number = st.tuples(st.integers(0, 999), birthdays).map(lambda t: resident_id(*t))
phone = st.tuples(st.sampled_from("3456789"), _digits(9)).map(lambda t: "1" + "".join(t))
odd_shape = st.text("0123456789abcdefABCDEF-_ ", min_size=12, max_size=40).filter(lambda s: s.strip() == s)
anything = st.one_of(wechat_transaction_id, alipay_trade_no, our_trade_no, id_number, phone, odd_shape)

FIELDS = {"transaction_id": wechat_transaction_id, "trade_no": alipay_trade_no, "out_trade_no": our_trade_no,
          "out_refund_no": our_trade_no, "id_number": id_number, "phone": phone}


def line(message: str, *args, **extra) -> str:
    record = logging.getLogger("bff.test").makeRecord("bff.test", logging.INFO, __file__, 1, message, args, None,
                                                      extra=extra)
    return JsonLineFormatter().format(record)


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries(FIELDS))
def test_every_generated_number_logged_under_its_name_is_masked(values):
    written = line("payment paid", **values)
    for name, value in values.items():
        assert value not in written, (name, value, written)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FIELDS) + ["openid", "payer_phone", "wechat_trade_no"]), anything)
def test_a_sensitive_name_is_masked_whatever_its_value_looks_like(name, value):
    written = line("notification", **{name: value}, nested={"payment": {name: value}, "items": [{name: value}]})
    assert value not in written


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["password", "token", "code", "auth_code", "qr_code_text", "staff_password"]),
       st.text("abcdefghijklmnopqrstuvwxyz0123456789#!", min_size=12, max_size=64))
def test_secrets_are_redacted_entirely(name, value):
    written = line("login", **{name: value})
    assert value not in written and f'"{name}":"[redacted]"' in written  # not even the last characters


@settings(max_examples=300, deadline=None)
@given(st.one_of(wechat_transaction_id, alipay_trade_no, our_trade_no, id_number, phone))
def test_the_patterns_still_catch_numbers_written_into_free_text(value):
    written = line("gateway said %s for it", value, note=f"see {value}.")
    assert value not in written


def test_numbers_given_as_integers_are_masked_too():
    written = line("paid", transaction_id=4200001234202612041234567890, amount=2500, payment_id=17)
    assert "4200001234202612041234567890" not in written and '"amount":2500' in written and '"payment_id":17' in written


def test_ordinary_fields_are_left_alone():
    assert scrub_field("status", 200) == 200 and scrub_field("order_type", "appointment") == "appointment"
    assert scrub_field("out_trade_no", None) is None
    assert scrub_field("out_trade_no", "yq-2026/12/04-0007") == "****0007"  # an odd shape, masked by its name


def test_phones_written_with_the_country_code_or_dashes_are_masked_too():
    from bff.logs import scrub

    for written in ("+8613812345678", "8613812345678", "+86 13812345678", "138-1234-5678"):
        assert "1234" not in scrub(written).replace("5678", ""), written
