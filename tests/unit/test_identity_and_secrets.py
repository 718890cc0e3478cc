"""ID numbers, masking, encryption and the production start-up guard."""
import datetime as dt
import logging

import pytest

from bff import config
from bff.crypto import DataCipher, mask_id_number, mask_name, mask_phone
from bff.logs import scrub
from bff.patients.identity import InvalidIdNumber, check_digit, is_mobile, parse_resident_id
from tests.fakes import resident_id


def test_a_known_valid_id_is_parsed_with_birthday_and_gender():
    parsed = parse_resident_id("11010519491231002X")
    assert parsed.birthday == dt.date(1949, 12, 31) and parsed.gender == "F"
    assert parse_resident_id(resident_id(1)).gender == "M"


def test_lowercase_x_is_accepted_and_normalised():
    assert parse_resident_id("11010519491231002x").number == "11010519491231002X"


UNBORN = "110105" + "21000101" + "001"


@pytest.mark.parametrize("value, words", [
    ("1101051949123100", "18位"),
    ("110105194912310021", "校验位"),
    ("110105194913310028", "出生日期"),
    (UNBORN + check_digit(UNBORN), "出生日期"),
])
def test_bad_ids_say_what_is_wrong(value, words):
    with pytest.raises(InvalidIdNumber, match=words):
        parse_resident_id(value, today=dt.date(2026, 11, 23))


def test_mobile_numbers():
    assert is_mobile("13912345678") and is_mobile("19912345678")
    assert not is_mobile("12912345678") and not is_mobile("1391234567") and not is_mobile("+8613912345678")


def test_masks():
    assert mask_id_number("11010519491231002X") == "110105************"
    assert mask_id_number("E12345678") == "*********" and mask_id_number("123456789012345") == "123************"
    assert mask_phone("13912345678") == "139****5678"
    assert mask_name("张三丰") == "张*丰" and mask_name("李四") == "李*"


def test_cipher_round_trip_is_randomised_and_bound_to_its_column():
    cipher = DataCipher(config.DEFAULT_DATA_KEY)
    first, second = cipher.encrypt("13912345678", "phone"), cipher.encrypt("13912345678", "phone")
    assert first != second and cipher.decrypt(first, "phone") == "13912345678"
    with pytest.raises(Exception):
        cipher.decrypt(first, "id_number")
    assert cipher.blind_index("11010519491231002x") == cipher.blind_index("11010519491231002X")


def test_another_key_cannot_read_the_data():
    import base64

    other = DataCipher(base64.b64encode(b"k" * 32).decode())
    with pytest.raises(Exception):
        other.decrypt(DataCipher(config.DEFAULT_DATA_KEY).encrypt("x", "phone"), "phone")


def test_log_scrubbing_masks_ids_and_phones_in_any_text():
    assert scrub("id=11010519491231002X tel 13912345678 order 2026112312345678") == (
        "id=110105********002X tel 139****5678 order 2026112312345678")


def test_production_refuses_default_secrets():
    import base64
    import os
    import secrets

    settings = config.load() | {"ENV_NAME": "production"}
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.check_production(settings)
    good = settings | {"SECRET_KEY": secrets.token_urlsafe(48), "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
                       "WX_SECRET": secrets.token_hex(16), "HEALTH_CARD_APP_SECRET": secrets.token_urlsafe(24),
                       "PAYMENT_GATEWAYS": "",
                       "WX_API_BASE": "https://api.weixin.qq.com/", "HIS_WSDL_URL": "http://10.1.1.1/his/ws?wsdl",
                       "HEALTH_CARD_API_BASE": "https://health-card.example.cn", "SMS_ENDPOINT": "https://sms.tencentcloudapi.com",
                       "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://yiqiao@db.hospital.local/yiqiao"}
    config.check_production(good)
    for default, named in (({"HEALTH_CARD_APP_SECRET": "hc-sandbox-secret"}, "HEALTH_CARD_APP_SECRET"),
                           ({"WX_SECRET": "wx-sandbox-secret"}, "WX_SECRET"),
                           ({"SECRET_KEY": config.DEFAULT_SECRET}, "SECRET_KEY"),
                           ({"DATA_KEY": config.DEFAULT_DATA_KEY}, "DATA_KEY"),
                           ({"PAYMENT_GATEWAYS": "dummy"}, "PAYMENT_GATEWAYS"),
                           ({"SQLALCHEMY_DATABASE_URI": "sqlite:///var/yiqiao.sqlite3"}, "DATABASE_URL"),
                           ({"HIS_ADAPTER": "memory"}, "HIS_ADAPTER")):
        with pytest.raises(RuntimeError, match=named):
            config.check_production(good | default)


def test_an_unset_running_mode_is_production_so_a_forgotten_setting_fails_closed():
    assert config.load({"YIQIAO_ENV": ""})["ENV_NAME"] == "production"
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.check_production(config.load({"YIQIAO_ENV": ""}))


def test_postgres_urls_name_the_psycopg_driver(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert config.load()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_log_lines_are_json_with_request_id_and_extras():
    import json

    from bff.logs import ContextFilter, JsonLineFormatter

    record = logging.LogRecord("bff.access", logging.INFO, __file__, 1, "GET %s %s", ("/x", 200), None)
    record.status = 200
    ContextFilter().filter(record)
    line = json.loads(JsonLineFormatter().format(record))
    assert line["message"] == "GET /x 200" and line["status"] == 200 and line["level"] == "INFO"
    assert "request_id" in line and line["time"].endswith("+00:00")


def test_configured_logging_writes_scrubbed_json_lines_to_stderr(capfd):
    import json

    from bff import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("INFO")
        logging.getLogger("bff.test").info("patient phone 13912345678", extra={"id": "110101199003070011"})
        logs._stop_writer()  # what the process does at exit: write out what is queued
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = json.loads(capfd.readouterr().err.strip().splitlines()[-1])
    assert line["logger"] == "bff.test" and line["message"] == "patient phone 139****5678"
    assert line["id"] == "110101********0011"
