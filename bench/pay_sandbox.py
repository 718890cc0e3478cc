"""`python -m bench.pay_sandbox`: every simulator (`sandbox.build`) for the payments bench, counting its faults.

The simulators are the real ones, unchanged in behaviour; the one addition is bookkeeping. Each
fault knob (`POST /_control/faults` on the HIS, WeChat Pay and Alipay) is replaced by a
`sandbox.faults.Faults` subclass that counts, per protocol operation, the calls it saw, delayed and
failed, readable at `GET /_bench/faults` on each of those three. So the bench can say how many
faults were really injected, not only how often it turned a knob.

    python -m bench.pay_sandbox --data-dir D --keys-dir K --urls-file F [--seed S]

writes `{"his": url, "wechatpay": url, …}` to F once every server listens, and serves until SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
from collections import Counter

from flask import jsonify, request

from sandbox import __main__ as sandbox
from sandbox.faults import Faults
from sandbox.his import soap

COUNTED = ("his", "wechatpay", "alipay")
_STATE_KEYS = {"his": "sandbox_his", "wechatpay": "sandbox_wechatpay", "alipay": "sandbox_alipay"}


def _his_operation() -> str:
    try:
        return "his " + soap.parse_invoke(request.get_data())[0]
    except soap.SoapError:
        return "his ?"


def _wechatpay_operation() -> str:
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return "wechatpay " + rule


def _alipay_operation() -> str:
    return "alipay " + (request.values.get("method") or request.path)


OPERATIONS = {"his": _his_operation, "wechatpay": _wechatpay_operation, "alipay": _alipay_operation}


class CountingFaults(Faults):
    """The shared fault knobs, plus counts of what they did: (operation, calls|delayed|errors|down)."""

    def __init__(self, operation):
        self._operation = operation
        self.counts: Counter = Counter()
        self._count_lock = threading.Lock()
        super().__init__()

    def verdict(self) -> str | None:
        """As Faults.verdict (sleeps for the latency, may fail the call), counting the outcome."""
        delayed = self.latency_ms > 0 and not self.down
        result = super().verdict()
        operation = self._operation()
        with self._count_lock:
            self.counts[(operation, "calls")] += 1
            if delayed:
                self.counts[(operation, "delayed")] += 1
            if result is not None:
                self.counts[(operation, "errors" if result == "error" else "down")] += 1
        return result

    def snapshot(self) -> dict:
        """{operation: {calls, delayed, errors, down}}."""
        with self._count_lock:
            items = list(self.counts.items())
        out: dict[str, dict[str, int]] = {}
        for (operation, what), n in items:
            out.setdefault(operation, {})[what] = n
        return out


def install_counters(box: sandbox.Sandbox) -> None:
    """Swap each counted simulator's fault knobs for counting ones and mount GET /_bench/faults."""
    for name in COUNTED:
        app = box.servers[name].app
        state = app.extensions[_STATE_KEYS[name]]
        state.faults = CountingFaults(OPERATIONS[name])
        app.add_url_rule("/_bench/faults", f"bench_faults_{name}",
                         lambda state=state: jsonify(state.faults.snapshot()))


def main(argv: list[str] | None = None) -> None:
    """Build, count, serve; write the URLs file; stop on SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.pay_sandbox")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--keys-dir", required=True)
    parser.add_argument("--urls-file", required=True)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.seed is not None:
        random.seed(args.seed)  # the fault draws; thread timing still makes two runs differ a little
    box = sandbox.build("127.0.0.1", args.data_dir, {}, keys_dir=args.keys_dir)
    install_counters(box)
    box.serve()
    urls = {name: box.url(name) for name in box.servers}
    with open(args.urls_file + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(urls, fh)
    os.replace(args.urls_file + ".tmp", args.urls_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    box.shutdown()


if __name__ == "__main__":
    main()
