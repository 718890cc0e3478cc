"""Table 3, part 3: what signing an Alipay request costs, the SDK's signer against the cryptography one, same run.

Reuses `bench.alipay_signing` (its realistic `alipay.trade.create` sign content, the same two
signers): median time of one RSA2 signature with the SDK's `sign_with_rsa2` (pure-Python `rsa`,
the PEM parsed on every call as the SDK does) and with `payments.alipay.keys.FastSigner`, whether
the two give the same bytes, and whole `query` calls of the real gateway against the Alipay
simulator on loopback with each signer. The verdict: is the faster signer needed, and is it
what the BFF uses (`ALIPAY_SIGNER`, default in `bff/config.py`)?
"""
from __future__ import annotations

import logging
import os
import statistics
import tempfile
import threading
from dataclasses import dataclass

from werkzeug.serving import make_server

from bench.alipay_signing import CONTENT, _gateway, _query
from bench.common import timed_ms
from bff import config
from payments.alipay.keys import FastSigner, SdkSigner, load_app_key
from sandbox import keys as sandbox_keys
from sandbox.alipay import create_app

SDK_SIGNS = 40
FAST_SIGNS = 400
QUERIES = 30
NEEDED_ABOVE_MS = 5.0  # a signer costing more than this per request (holding the GIL) needs replacing


@dataclass
class SigningCost:
    """Median milliseconds of each operation, and what the BFF is configured with."""

    sdk_sign_ms: float
    fast_sign_ms: float
    identical: bool
    sdk_query_ms: float
    fast_query_ms: float
    bff_signer: str

    @property
    def faster_needed(self) -> bool:
        """The SDK signer costs more than NEEDED_ABOVE_MS of CPU per Alipay call."""
        return self.sdk_sign_ms > NEEDED_ABOVE_MS

    @property
    def ok(self) -> bool:
        """The BFF signs with the fast signer whenever the SDK's is too slow, and both agree byte for byte."""
        return self.identical and (not self.faster_needed or self.bff_signer == "cryptography")


def _median_ms(fn, n: int) -> float:
    return statistics.median(timed_ms(fn, n))


def _queries(keys) -> tuple[float, float]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(keys), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/gateway.do"
    try:
        gateways = [_gateway(keys, url, signer) for signer in ("sdk", "cryptography")]
        return tuple(_median_ms(lambda g=g: _query(g), QUERIES) for g in gateways)
    finally:
        server.shutdown()
        server.server_close()


def run(workdir: str) -> SigningCost:
    """Measure both signers and a query round trip with each."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        keys = sandbox_keys.ensure(os.path.join(tmp, "keys"))
        key, pkcs1 = load_app_key(keys.private_key("alipay_app"))
        fast, sdk = FastSigner(key), SdkSigner(pkcs1)
        sdk_ms = _median_ms(lambda: sdk.sign(CONTENT), SDK_SIGNS)
        fast_ms = _median_ms(lambda: fast.sign(CONTENT), FAST_SIGNS)
        identical = sdk.sign(CONTENT) == fast.sign(CONTENT)
        sdk_query, fast_query = _queries(keys)
    return SigningCost(sdk_ms, fast_ms, identical, sdk_query, fast_query, config.load({})["ALIPAY_SIGNER"])
