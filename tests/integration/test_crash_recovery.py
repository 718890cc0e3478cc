"""The BFF killed (SIGKILL) between a payment notification and the HIS confirmation: after a restart the
outbox finishes the work, the booking is confirmed once, and the money is accounted for.

The BFF runs under gunicorn in its own process group, as in production; the simulators run here.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys

import pytest
import requests

from deploy.sandbox_env import bff_settings
from sandbox import __main__ as sandbox
from tests.fakes import resident_id
from tests.waiting import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bff:
    """The BFF under gunicorn; killed hard and started again on the same port and database."""

    def __init__(self, env: dict, log_path: str):
        self.env, self.log_path, self.proc = env, log_path, None
        self.url = f"http://{env['BFF_BIND']}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                          "bff.wsgi:app"], cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            try:
                return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, 30, interval=0.1, what="the BFF to start")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


@pytest.fixture
def world(tmp_path):
    box = sandbox.build("127.0.0.1", str(tmp_path / "sandbox"), {})
    box.serve()
    urls = {name: box.url(name) for name in box.servers}
    bind = f"127.0.0.1:{_free_port()}"
    db_path = tmp_path / "bff.sqlite3"
    env = {**os.environ, **bff_settings(urls, box.keys, box.tls_files, payment_mode="online"),
           "DATABASE_URL": f"sqlite:///{db_path}", "BFF_BIND": bind, "PAYMENT_NOTIFY_BASE_URL": f"http://{bind}",
           "JOBS_IN_PROCESS": "1", "OUTBOX_LEASE_SECONDS": "2", "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "4",
           "FLASK_APP": "bff.wsgi:app", "RATELIMIT_STORAGE_URI": "memory://", "HIS_TIMEOUT_SECONDS": "10"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env={**env, "JOBS_IN_PROCESS": "0"},
                   check=True, capture_output=True)
    bff = Bff(env, str(tmp_path / "bff.log"))
    try:
        yield bff, urls, db_path
    finally:
        bff.stop()
        box.shutdown()


def _db(db_path, sql, *args):
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, args).fetchall()


def test_a_kill_between_notification_and_his_confirmation_is_finished_after_restart(world):
    bff, urls, db_path = world
    bff.start()
    http = requests.Session()
    token = http.post(f"{bff.url}/api/v1/auth/wx-login", json={"code": "crash-1"}, timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    patient = http.post(f"{bff.url}/api/v1/patients", headers=auth, timeout=10, json={
        "name": "重启测试", "id_type": "01", "id_number": resident_id(777), "phone": "13800000000",
        "relation": "self"}).json()
    schedule = http.post(f"{urls['his']}/_control/schedules", timeout=10, json={
        "department_code": "0101", "doctor_code": "D010101", "period": "pm", "capacity": 4,
        "date": (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date().isoformat(),
        "release_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()}).json()
    booking = http.post(f"{bff.url}/api/v1/appointments", headers=auth, timeout=15, json={
        "patient_id": patient["id"], "schedule_id": schedule["schedule_id"], "slot_id": schedule["slot_ids"][0]})
    assert booking.status_code == 201, booking.text
    appointment = booking.json()
    payment = http.post(f"{bff.url}/api/v1/payments", headers=auth, timeout=15, json={
        "order_type": "appointment", "order_id": appointment["id"], "channel": "wechat"}).json()

    http.post(f"{urls['his']}/_control/faults", json={"latency_ms": 4000}, timeout=5)  # the confirm will hang
    http.post(f"{urls['wechatpay']}/_control/pay", json={"pay_params": payment["pay_params"]}, timeout=5)
    wait_for(lambda: _db(db_path, "SELECT 1 FROM outbox WHERE topic = 'fulfil_payment' AND lease_until IS NOT NULL"
                         " AND status = 'pending'"), 15, interval=0.1, what="the outbox to start confirming in the HIS")
    bff.kill()  # the notification was acknowledged and the HIS call is in flight
    assert _db(db_path, "SELECT status FROM payments WHERE id = ?", payment["id"]) == [("paid",)]
    assert _db(db_path, "SELECT status FROM appointments WHERE id = ?", appointment["id"])[0][0] != "confirmed"

    http.post(f"{urls['his']}/_control/faults", json={"latency_ms": 0}, timeout=5)
    bff.start()
    wait_for(lambda: http.get(f"{bff.url}/api/v1/appointments/{appointment['id']}", headers=auth,
                           timeout=10).json()["status"] == "confirmed", 30, interval=0.1,
             what="the restarted BFF to confirm")
    mine = [r for r in http.get(f"{urls['his']}/_control/registrations", timeout=5).json()
            if r["schedule_id"] == schedule["schedule_id"] and r["status"] != "cancelled"]
    assert len(mine) == 1 and http.get(f"{urls['his']}/_control/stats", timeout=5).json()["locks"] == 0
    ledger = _db(db_path, "SELECT kind, amount FROM ledger_entries WHERE out_trade_no = ?", payment["out_trade_no"])
    assert ledger == [("capture", appointment["fee"])]
