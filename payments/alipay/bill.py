"""Alipay's daily trade bill: a short-lived URL to a zip of GBK CSV files, read into BillLines.

The zip holds the detail file (``…_业务明细.csv``) and a summary (``…_业务明细(汇总).csv``); member
names are GBK without the zip UTF-8 flag, so the detail file is found by its header row, not its name.
Lines around the table start with ``#``; cells are padded with tabs so spreadsheets keep long numbers.
Columns are found by their header, so a column Alipay adds does not shift anything.
"""
from __future__ import annotations

import csv
import io
import zipfile

import requests

from payments.alipay.money import parse_time, yuan_to_fen
from payments.interface import BillKind, BillLine, GatewayRejected, GatewayUnavailable, PaymentOutcomeUnknown

MAX_FILE = 64 * 1024 * 1024  # a hospital's day is far below this; a bigger member is not a bill
COLUMNS = {
    "transaction_id": "支付宝交易号", "out_trade_no": "商户订单号", "kind": "业务类型", "at": "完成时间",
    "amount": "订单金额（元）", "out_refund_no": "退款批次号/请求号", "fee": "服务费（元）",
}
KINDS = {"交易": BillKind.PAYMENT, "退款": BillKind.REFUND}


def download(url: str, timeout: float) -> bytes:
    """GET the bill file; our errors when it cannot be had."""
    try:
        reply = requests.get(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise GatewayUnavailable("账单下载失败", "BILL_DOWNLOAD_FAILED") from exc
    if reply.status_code != 200:
        raise PaymentOutcomeUnknown(f"账单下载失败 HTTP {reply.status_code}", f"HTTP_{reply.status_code}")
    return reply.content


def _signed_fen(text: str) -> int:
    """Absolute fen of a bill cell such as "-25.00"; the sign is what the kind column already says."""
    text = text.strip()
    return yuan_to_fen(text[1:] if text.startswith("-") else text) if text else 0


def _table(text: str) -> list[list[str]] | None:
    """The detail table's rows (header first), or None when this CSV is not the detail file."""
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text)) if row]
    rows = [row for row in rows if not row[0].startswith("#")]
    if not rows or COLUMNS["transaction_id"] not in rows[0] or COLUMNS["kind"] not in rows[0]:
        return None
    return rows


def _line(row: list[str], index: dict[str, int], gateway: str) -> BillLine:
    cell = {name: (row[i] if i < len(row) else "") for name, i in index.items()}
    kind = KINDS[cell["kind"]]
    return BillLine(gateway=gateway, kind=kind, at=parse_time(cell["at"]), out_trade_no=cell["out_trade_no"],
                    transaction_id=cell["transaction_id"], amount=_signed_fen(cell["amount"]),
                    out_refund_no=cell["out_refund_no"] if kind is BillKind.REFUND else "",
                    state=cell["kind"], fee=_signed_fen(cell["fee"]))


def parse_csv(text: str, gateway: str = "alipay") -> list[BillLine] | None:
    """BillLines of a detail CSV (decoded text); None when it is another file of the zip."""
    rows = _table(text)
    if rows is None:
        return None
    header = rows[0]
    missing = [title for title in COLUMNS.values() if title not in header]
    if missing:
        raise GatewayRejected("账单缺少列: " + ",".join(missing), "BILL_MALFORMED")
    index = {name: header.index(title) for name, title in COLUMNS.items()}
    try:
        return [_line(row, index, gateway) for row in rows[1:]]
    except (KeyError, ValueError) as exc:
        raise GatewayRejected("账单内容无法解析", "BILL_MALFORMED") from exc


def parse_zip(data: bytes, gateway: str = "alipay") -> list[BillLine]:
    """The lines of the detail file in an Alipay bill zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                if member.is_dir() or member.file_size > MAX_FILE:
                    continue
                lines = parse_csv(archive.read(member).decode("gbk"), gateway)
                if lines is not None:
                    return lines
    except (zipfile.BadZipFile, UnicodeDecodeError, EOFError) as exc:
        raise GatewayRejected("账单文件无法解析", "BILL_MALFORMED") from exc
    raise GatewayRejected("账单文件中没有业务明细", "BILL_MALFORMED")
