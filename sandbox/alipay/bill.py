"""The daily trade bill as Alipay serves it: a zip with a detail CSV and a summary CSV, both GBK.

Unlike the real one, which is ready after about 09:00 on the next day, the simulator builds a
day's bill on request, today's included, so a test can pay and reconcile at once.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from sandbox.alipay.protocol import SHANGHAI, format_time, yuan
from sandbox.alipay.store import Trade

FEE_PER_MILLE = 6  # 0.6%, Alipay's usual rate
HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
).split(",")


def _fee(amount: int) -> int:
    return (amount * FEE_PER_MILLE + 500) // 1000


def _signed(fen: int) -> str:
    return ("-" if fen < 0 else "") + yuan(abs(fen))


def _row(trade: Trade, kind: str, at: dt.datetime, amount: int, refund_no: str) -> list[str]:
    fee = _fee(abs(amount))
    cells = [trade.trade_no, trade.out_trade_no, kind, trade.subject, format_time(trade.created_at), format_time(at),
             "", "", "", "", "138****" + trade.buyer_id[-4:], _signed(amount), _signed(amount), "0.00", "0.00",
             "0.00", "0.00", "0.00", "", "0.00", "0.00", refund_no, _signed(fee if amount < 0 else -fee), "0.00", ""]
    return [cell + "\t" if cell else cell for cell in cells]  # Alipay pads cells so Excel keeps long numbers


def lines_of(trades: list[Trade], day: dt.date) -> list[list[str]]:
    """Bill rows of day: payments completed and refunds made that day (Asia/Shanghai)."""
    rows = []
    for trade in trades:
        if trade.paid_at and trade.paid_at.astimezone(SHANGHAI).date() == day:
            rows.append((trade.paid_at, _row(trade, "交易", trade.paid_at, trade.total, "")))
        for refund in trade.refunds.values():
            if refund.at.astimezone(SHANGHAI).date() == day:
                rows.append((refund.at, _row(trade, "退款", refund.at, -refund.amount, refund.out_request_no)))
    return [row for _, row in sorted(rows, key=lambda item: item[0])]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def build_zip(trades: list[Trade], day: dt.date, seller_id: str, exported_at: dt.datetime) -> bytes:
    """The bill zip of day."""
    rows = lines_of(trades, day)
    stamp, next_stamp = day.strftime("%Y年%m月%d日"), (day + dt.timedelta(days=1)).strftime("%Y年%m月%d日")
    payments = sum(1 for r in rows if r[2].strip() == "交易")
    detail = (f"#支付宝业务明细查询\r\n#账号：[{seller_id}0156]\r\n"
              f"#起始日期：[{stamp} 00:00:00]   终止日期：[{next_stamp} 00:00:00]\r\n"
              "#-----------------------------------------业务明细列表----------------------------------------\r\n"
              + _csv([HEADER, *rows])
              + "#-----------------------------------------业务明细列表结束------------------------------------\r\n"
              f"#交易合计：{payments}笔，退款合计：{len(rows) - payments}笔\r\n"
              f"#导出时间：[{exported_at.astimezone(SHANGHAI).strftime('%Y年%m月%d日 %H:%M:%S')}]\r\n")
    summary = ("#支付宝业务汇总查询\r\n" + _csv([["门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数"],
                                           ["", "", str(payments), str(len(rows) - payments)]]))
    prefix = f"{seller_id}0156_{day.strftime('%Y%m%d')}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{prefix}_业务明细.csv", detail.encode("gbk"))
        archive.writestr(f"{prefix}_业务明细(汇总).csv", summary.encode("gbk"))
    return out.getvalue()
