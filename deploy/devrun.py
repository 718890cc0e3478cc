"""`make run`: the sandbox simulators and the BFF on loopback with demo data, until Ctrl-C.

Makes the sandbox keys (var/keys) once, migrates the database, seeds the demo staff accounts and
a demo kiosk, starts `python -m sandbox` and gunicorn (deploy/gunicorn.conf.py) with every
adapter pointed at its simulator, waits until all answer, prints the addresses and how to open
the mini-program, and stops everything together.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PYTHON = sys.executable

from deploy.sandbox_env import bff_settings, default_urls  # noqa: E402 -- after the path is set
from sandbox import keys as sandbox_keys  # noqa: E402
from sandbox.wechatpay import tls  # noqa: E402

KEYS_DIR = os.path.join(ROOT, "var", "keys")
DEMO_KIOSK = "KIOSK-DEMO-01"


def wait_for(url: str, seconds: float = 30.0) -> bool:
    """Poll a URL until it answers 2xx/3xx."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 -- our own loopback URLs
                return True
        except OSError:
            time.sleep(0.3)
    return False


def environment() -> dict[str, str]:
    """The BFF's environment: the caller's settings win over the sandbox wiring."""
    keys = sandbox_keys.ensure(KEYS_DIR)
    files = tls.ensure_tls(keys)
    env = {**bff_settings(default_urls(), keys, files), "FLASK_APP": "bff.wsgi:app", **os.environ}
    env["YIQIAO_ENV"] = "development"  # `make run` is the sandbox, whatever a copied .env says
    env.setdefault("BFF_BIND", "127.0.0.1:8000")
    env.setdefault("PAYMENT_NOTIFY_BASE_URL", f"http://{env['BFF_BIND']}")
    return env


def prepare(env: dict[str, str]) -> str:
    """Migrate, seed the demo staff, provision the demo kiosk; answers the kiosk's key."""
    once = {**env, "JOBS_IN_PROCESS": "0"}
    for args in (["db", "upgrade"], ["staff", "seed-demo"]):
        subprocess.run([PYTHON, "-m", "flask", *args], cwd=ROOT, env=once, check=True)
    out = subprocess.run([PYTHON, "-m", "flask", "kiosk", "add", "--id", DEMO_KIOSK, "--name", "演示自助机"],
                         cwd=ROOT, env=once, check=True, capture_output=True, text=True).stdout
    return out.rsplit(" ", 1)[-1].strip()


def main() -> int:
    """Run until interrupted; exit non-zero if a part fails to start."""
    os.makedirs(os.path.join(ROOT, "var"), exist_ok=True)
    env = environment()
    kiosk_key = prepare(env)
    children = [
        subprocess.Popen([PYTHON, "-m", "sandbox", "--data-dir", "var/sandbox", "--keys-dir", KEYS_DIR],
                         cwd=ROOT, env=env),
        subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "bff.wsgi:app"],
                         cwd=ROOT, env=env),
    ]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    urls = default_urls()
    try:
        ok = wait_for(f"{urls['his']}/his/ws?wsdl") and wait_for(f"http://{env['BFF_BIND']}/healthz")
        if not ok:
            print("make run: a part did not start; see the log above", file=sys.stderr)
            return 1
        print(BANNER.format(bind=env["BFF_BIND"], root=ROOT, mode=env.get("PAYMENT_MODE", "at_hospital"),
                            kiosk=DEMO_KIOSK, kiosk_key=kiosk_key, **urls), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)


BANNER = """
Yiqiao is running on loopback (PAYMENT_MODE={mode}):
  BFF             http://{bind}/        API docs http://{bind}/api/docs
                  OpenAPI  http://{bind}/api/v1/openapi.json   ready? http://{bind}/readyz
  sandbox HIS     {his}/his/ws?wsdl   control: /_control/stats, /_control/bills, /_control/faults
  sandbox WeChat  {wechat}/
  WeChat Pay      {wechatpay}/ (v3, v2; mutual TLS {wechatpay_tls}/)   control: /_control/pay, /_control/trades
  Alipay          {alipay}/gateway.do   control: /_control/pay, /_control/trades
  health card     {healthcard}/   control: /_control/reports, /_control/expire
  SMS (Tencent)   {sms}/   control: /_control/messages?phone=13800000000 (the codes sent)
Staff (sandbox only): admin01, registrar01, nurse01, doctor01, pharmacist01 — password Sandbox#2026
Kiosk {kiosk} key: {kiosk_key}
Mini-program: open {root}/miniprogram in WeChat DevTools (import project, AppID: test account),
  then Tools → Build npm; in Details → Local settings tick "Do not verify valid domain names"
  so it may call http://{bind}. Press Ctrl-C to stop.
"""

if __name__ == "__main__":
    sys.exit(main())
