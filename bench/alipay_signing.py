"""`python -m bench.alipay_signing`: the cost of Alipay request signing, SDK signer vs. OpenSSL, same run.

Table 1 signs (and verifies) one realistic ``alipay.trade.create`` sign content many times with the
SDK's ``sign_with_rsa2`` (pure-Python ``rsa``, PEM parsed per call as the SDK does) and with
``payments.alipay.keys.FastSigner`` (``cryptography``), checking both give the same bytes. Table 2
runs whole ``query`` calls of the real gateway against the simulator on loopback, one thread and
four threads, with each signer: what the signer costs a request and a process (the SDK signer holds
the GIL). Bounded: a few hundred operations, about half a minute in all.
"""
from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa
from werkzeug.serving import make_server

from bench.common import log, percentile, table, timed_ms
from payments.alipay import AlipayGateway
from payments.alipay.keys import FastSigner, load_alipay_public_key, load_app_key, verify_rsa2
from payments.interface import TradeNotFound
from sandbox import keys as sandbox_keys
from sandbox.alipay import create_app

CONTENT = get_sign_content({
    "app_id": "2021000000000001", "method": "alipay.trade.create", "charset": "utf-8", "format": "json",
    "sign_type": "RSA2", "timestamp": "2026-01-24 09:00:00", "version": "1.0",
    "notify_url": "https://hospital.example.cn/notify/alipay",
    "biz_content": '{"buyer_id":"2088102177846880","out_trade_no":"A20260124090000123456","product_code":'
                   '"JSAPI_PAY","subject":"挂号费-心血管内科-主任医师","total_amount":"25.00"}',
})


def _timed(fn, count: int) -> list[float]:
    return timed_ms(fn, count, warm_up=False)


def _row(name: str, samples: list[float]) -> list:
    median = statistics.median(samples)
    return [name, len(samples), f"{median:.3f}", f"{percentile(samples, 95):.3f}", int(1000 / median)]


def signing_table(keys) -> str:
    """Sign and verify costs, and the identity check."""
    key, pkcs1 = load_app_key(keys.private_key("alipay_app"))
    fast = FastSigner(key)
    sdk_sign = sign_with_rsa2(pkcs1, CONTENT, "utf-8")
    identical = sdk_sign == fast.sign(CONTENT)
    app_public, spki = load_alipay_public_key(keys.public_key("alipay_app"))
    sdk_signer = lambda: sign_with_rsa2(pkcs1, CONTENT, "utf-8")  # noqa: E731
    rows = [
        _row("sign: SDK sign_with_rsa2 (rsa, pure Python)", _timed(sdk_signer, 60)),
        _row("sign: FastSigner (cryptography/OpenSSL)", _timed(lambda: fast.sign(CONTENT), 600)),
        _row("verify: SDK verify_with_rsa", _timed(lambda: verify_with_rsa(spki, CONTENT.encode(), sdk_sign), 300)),
        _row("verify: verify_rsa2 (cryptography)", _timed(lambda: verify_rsa2(app_public, CONTENT, sdk_sign), 600)),
    ]
    return table("Alipay RSA2, one alipay.trade.create sign content (2048-bit key)",
                 ["operation", "n", "median ms", "p95 ms", "per s, 1 core"], rows,
                 [f"signatures byte-identical: {identical}"])


def _gateway(keys, url: str, signer: str) -> AlipayGateway:
    return AlipayGateway(keys.secrets["alipay_app_id"], keys.secrets["alipay_seller_id"],
                         keys.private_key("alipay_app"), keys.public_key("alipay_platform"),
                         notify_url="http://127.0.0.1:9/notify", server_url=url, timeout=5, signer=signer)


def _query(gateway: AlipayGateway) -> None:
    try:
        gateway.query("BENCH-NOT-THERE")
    except TradeNotFound:
        pass  # the answer expected: signed, verified, parsed


def round_trip_table(keys) -> str:
    """Whole query calls against the simulator, per signer, 1 and 4 threads."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(keys), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/gateway.do"
    rows = []
    try:
        for signer in ("sdk", "cryptography"):
            gateway = _gateway(keys, url, signer)
            _query(gateway)  # warm the connection
            rows.append(_row(f"query, 1 thread, signer={signer}", _timed(lambda g=gateway: _query(g), 40)))
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _, g=gateway: _query(g), range(120)))
            elapsed = time.perf_counter() - started
            rows.append([f"query, 4 threads, signer={signer}", 120, "", "", int(120 / elapsed)])
    finally:
        server.shutdown()
        server.server_close()
    return table("Gateway query round trips (simulator on loopback, same process)",
                 ["run", "n", "median ms", "p95 ms", "calls per s"], rows,
                 ["includes the simulator's own verify and sign (OpenSSL) in the same process"])


def main() -> int:
    """Print both tables."""
    with tempfile.TemporaryDirectory() as tmp:
        keys = sandbox_keys.ensure(tmp)
        log("signing table")
        print(signing_table(keys), flush=True)
        log("round trip table")
        print(round_trip_table(keys), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
