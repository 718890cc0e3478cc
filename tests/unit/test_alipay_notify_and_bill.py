"""Alipay notification verification and bill parsing, with forms and files signed and built as Alipay does."""
from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from urllib.parse import quote, urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payments.alipay import AlipayGateway
from payments.alipay.bill import parse_zip
from payments.alipay.money import parse_time
from payments.interface import BillKind, GatewayRejected, NotificationInvalid, NotificationKind, TradeState
from sandbox import keys as sandbox_keys
from sandbox.alipay.bill import build_zip
from sandbox.alipay.protocol import SHANGHAI, Signer, sign_content
from sandbox.alipay.store import Refund, Trade


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return sandbox_keys.ensure(str(tmp_path_factory.mktemp("alipay-unit-keys")))


@pytest.fixture(scope="module")
def gateway(keys):
    return AlipayGateway(keys.secrets["alipay_app_id"], keys.secrets["alipay_seller_id"],
                         keys.private_key("alipay_app"), keys.public_key("alipay_platform"),
                         notify_url="http://127.0.0.1:9/notify/alipay", server_url="http://127.0.0.1:9/gateway.do")


@pytest.fixture(scope="module")
def platform(keys):
    return Signer(keys.private_key("alipay_platform"), keys.public_key("alipay_app"))


@pytest.fixture
def fields(keys):
    return {"notify_time": "2026-01-24 09:00:06", "notify_type": "trade_status_sync", "notify_id": "n" * 32,
            "app_id": keys.secrets["alipay_app_id"], "seller_id": keys.secrets["alipay_seller_id"],
            "charset": "utf-8", "version": "1.0", "trade_no": "2026012422001400000000000001",
            "out_trade_no": "T1", "buyer_id": "2088102177846880", "trade_status": "TRADE_SUCCESS",
            "total_amount": "25.00", "buyer_pay_amount": "25.00", "subject": "挂号费-心血管内科",
            "gmt_create": "2026-01-24 09:00:00", "gmt_payment": "2026-01-24 09:00:05",
            "passback_params": quote("appointment:42")}


def _body(form: dict) -> bytes:
    return urlencode(form).encode("ascii")


def test_a_genuine_payment_notification(gateway, platform, fields):
    note = gateway.parse_notification({}, _body(platform.sign_notification(fields)))
    assert note.kind is NotificationKind.PAYMENT and note.notification_id == "n" * 32
    trade = note.trade
    assert (trade.out_trade_no, trade.state, trade.amount, trade.paid_amount) == ("T1", TradeState.PAID, 2500, 2500)
    assert trade.paid_at == dt.datetime(2026, 1, 24, 9, 0, 5, tzinfo=SHANGHAI)
    assert note.raw["passback_params"] == "appointment:42" and "sign" not in note.raw


def test_a_refund_notification(gateway, platform, fields):
    refund_fields = {**fields, "trade_status": "TRADE_CLOSED", "out_biz_no": "R1", "refund_fee": "25.00",
                     "gmt_refund": "2026-01-24 10:00:00", "gmt_close": "2026-01-24 10:00:00"}
    note = gateway.parse_notification({}, _body(platform.sign_notification(refund_fields)))
    assert note.kind is NotificationKind.REFUND and note.trade.state is TradeState.REFUNDED
    assert (note.refund.out_refund_no, note.refund.amount, note.refund.out_trade_no) == ("R1", 2500, "T1")


def test_a_refund_notification_with_milliseconds_in_gmt_refund_is_accepted(gateway, platform, fields):
    # As in Alipay's own documentation of the notification: gmt_refund "2015-04-28 15:45:57.320".
    refund_fields = {**fields, "trade_status": "TRADE_CLOSED", "out_biz_no": "R1", "refund_fee": "25.00",
                     "gmt_refund": "2015-04-28 15:45:57.320", "gmt_close": "2015-04-28 15:45:57"}
    note = gateway.parse_notification({}, _body(platform.sign_notification(refund_fields)))
    assert note.refund.succeeded_at == dt.datetime(2015, 4, 28, 15, 45, 57, 320000, tzinfo=SHANGHAI)


def test_a_second_partial_refund_notification_says_the_trades_refunded_total(gateway, platform, fields):
    # Alipay's refund_fee is cumulative: after 10.00 and then 5.00 refunded, the second says 15.00.
    second = {**fields, "out_biz_no": "R2", "refund_fee": "15.00", "gmt_refund": "2026-01-24 11:00:00.500"}
    refund = gateway.parse_notification({}, _body(platform.sign_notification(second))).refund
    assert (refund.out_refund_no, refund.trade_refunded) == ("R2", 1500)


def test_the_bill_lists_each_partial_refund_for_its_own_amount():
    at = dt.datetime(2026, 1, 24, 9, 0, tzinfo=SHANGHAI)
    trade = _trade("T000009", 2500, at)
    trade.refunds["R1"] = Refund("R1", 1000, at + dt.timedelta(hours=1))
    trade.refunds["R2"] = Refund("R2", 500, at + dt.timedelta(hours=2))
    lines = parse_zip(build_zip([trade], at.date(), "2088000000000001", at))
    assert [(ln.kind, ln.out_refund_no, ln.amount) for ln in lines] == [
        (BillKind.PAYMENT, "", 2500), (BillKind.REFUND, "R1", 1000), (BillKind.REFUND, "R2", 500)]


@pytest.mark.parametrize("text", ["2015-04-28 15:45:57.", "2015-04-28T15:45:57", "2015-04-28 15:45", "yesterday"])
def test_other_time_shapes_are_still_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize(("change", "code"), [
    ({"app_id": "2021000000009999"}, "APP_ID_MISMATCH"),
    ({"seller_id": "2088000000009999"}, "SELLER_ID_MISMATCH"),
    ({"total_amount": "25.001"}, "FIELDS_MALFORMED"),
    ({"total_amount": "-25.00"}, "FIELDS_MALFORMED"),
    ({"trade_status": "TRADE_MAYBE"}, "FIELDS_MALFORMED"),
    ({"notify_type": "something_else"}, "NOTIFY_TYPE"),
])
def test_signed_but_wrong_notifications_are_refused(gateway, platform, fields, change, code):
    with pytest.raises(NotificationInvalid) as caught:
        gateway.parse_notification({}, _body(platform.sign_notification({**fields, **change})))
    assert caught.value.gateway_code == code


def test_signature_problems_are_refused(gateway, platform, fields):
    signed = platform.sign_notification(fields)
    other = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
        gateway_public_pem(gateway))
    cases = {
        "SIGN_INVALID": [{**signed, "total_amount": "2500.00"}, other.sign_notification(fields),
                         {**signed, "sign": "A" * 344}],
        "SIGN_TYPE": [{**signed, "sign_type": "RSA"}, {k: v for k, v in signed.items() if k != "sign"}],
    }
    for code, forms in cases.items():
        for form in forms:
            with pytest.raises(NotificationInvalid) as caught:
                gateway.parse_notification({}, _body(form))
            assert caught.value.gateway_code == code


def gateway_public_pem(gateway) -> str:
    return gateway._alipay_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_malformed_forms_are_refused(gateway, platform, fields):
    body = _body(platform.sign_notification(fields))
    for bad, code in ((body + b"&out_trade_no=T2", "FORM_DUPLICATE"), ("总".encode() + body, "FORM_MALFORMED"),
                      (b"a" * 70000, "BODY_TOO_LARGE"), (body.replace(b"charset=utf-8", b"charset=latin9"), "CHARSET")):
        with pytest.raises(NotificationInvalid) as caught:
            gateway.parse_notification({}, bad)
        assert caught.value.gateway_code == code


def test_a_gbk_notification_is_verified_over_its_gbk_bytes(gateway, keys, fields):
    gbk = {**fields, "charset": "gbk", "sign_type": "RSA2"}
    key = serialization.load_pem_private_key(keys.private_key("alipay_platform").encode(), password=None)
    content = sign_content(gbk, ("sign", "sign_type")).encode("gbk")
    gbk["sign"] = base64.b64encode(key.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()
    note = gateway.parse_notification({}, urlencode(gbk, encoding="gbk").encode("ascii"))
    assert note.raw["subject"] == "挂号费-心血管内科"


def _trade(out_trade_no: str, total: int, paid_at: dt.datetime) -> Trade:
    return Trade(out_trade_no=out_trade_no, trade_no="2026012422000000000000" + out_trade_no[-6:].zfill(6),
                 app_id="a", seller_id="s", total=total, subject="门诊缴费, 检验", buyer_id="2088102177846880",
                 notify_url="", scene="mini_program", created_at=paid_at, status="TRADE_SUCCESS", paid_at=paid_at)


def test_the_simulators_bill_reads_back_line_for_line():
    day = dt.date(2026, 1, 24)
    at = dt.datetime(2026, 1, 24, 9, 0, tzinfo=SHANGHAI)
    paid, refunded = _trade("T000001", 2500, at), _trade("T000002", 1999, at)
    refunded.refunds["R1"] = Refund("R1", 999, at + dt.timedelta(hours=1))
    yesterday = _trade("T000003", 100, at - dt.timedelta(days=1))
    lines = parse_zip(build_zip([paid, refunded, yesterday], day, "2088000000000001", at))
    assert [(ln.kind, ln.out_trade_no, ln.amount, ln.out_refund_no, ln.fee) for ln in lines] == [
        (BillKind.PAYMENT, "T000001", 2500, "", 15), (BillKind.PAYMENT, "T000002", 1999, "", 12),
        (BillKind.REFUND, "T000002", 999, "R1", 6)]
    assert lines[2].at == at + dt.timedelta(hours=1) and lines[0].transaction_id == paid.trade_no


class _GbkNamed(zipfile.ZipInfo):
    """A member named in GBK without the UTF-8 flag, as Alipay's zips are."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(_GbkNamed(name), data)
    return out.getvalue()


def test_a_bill_with_other_columns_in_another_order():
    text = ("#支付宝业务明细查询\r\n#账号：[20880000000000010156]\r\n"
            "支付宝交易号,业务类型,商户订单号,新的一列,订单金额（元）,完成时间,退款批次号/请求号,服务费（元）\r\n"
            "2026012422001400000000000001\t,交易\t,T1\t,x,25.00\t,2026-01-24 09:00:05\t,,-0.15\t\r\n"
            "2026012422001400000000000001\t,退款\t,T1\t,x,-25.00\t,2026-01-24 10:00:00\t,R1\t,0.15\t\r\n"
            "#-----------------------------------------业务明细列表结束------------------------------------\r\n")
    summary = "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n,,1\r\n"
    archive = _zip({"2088_20260124_业务明细(汇总).csv": summary.encode("gbk"),
                    "2088_20260124_业务明细.csv": text.encode("gbk")})
    assert "业务明细" not in "".join(zipfile.ZipFile(io.BytesIO(archive)).namelist())  # names read as cp437
    lines = parse_zip(archive)
    assert [(ln.kind, ln.amount, ln.out_refund_no, ln.fee) for ln in lines] == [
        (BillKind.PAYMENT, 2500, "", 15), (BillKind.REFUND, 2500, "R1", 15)]


@pytest.mark.parametrize("data", [b"not a zip", _zip({"summary.csv": "#汇总\r\n门店编号\r\n".encode("gbk")}),
                                  _zip({"d.csv": "支付宝交易号,业务类型\r\n1,交易\r\n".encode("gbk")})])
def test_an_unreadable_bill_is_refused(data):
    with pytest.raises(GatewayRejected):
        parse_zip(data)
