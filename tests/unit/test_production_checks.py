"""Production refuses to start with a known or weak secret, an unknown running mode, or a sandbox URL."""
from __future__ import annotations

import base64
import os
import secrets
import shutil

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bff import config, config_checks, secret_scan
from bff.secret_strength import Rule, weaknesses

ROOT = secret_scan.PROJECT_ROOT


def _write_pair(directory, name: str, bits: int = 2048) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private, public = os.path.join(directory, f"{name}_private.pem"), os.path.join(directory, f"{name}_public.pem")
    with open(private, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    with open(public, "wb") as fh:
        fh.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hospital-keys")
    _write_pair(directory, "merchant")
    _write_pair(directory, "alipay")
    return directory


def production(key_dir, **changes) -> dict:
    """A configuration hospital IT could run: fresh secrets and keys, the real services' URLs."""
    settings = config.load({"YIQIAO_ENV": "production"}) | {
        "SECRET_KEY": secrets.token_urlsafe(48), "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "WX_SECRET": secrets.token_hex(16), "HEALTH_CARD_APP_SECRET": secrets.token_urlsafe(24),
        "WXPAY_APIV3_KEY": secrets.token_urlsafe(24), "WXPAY_V2_API_KEY": secrets.token_urlsafe(24),
        "WXPAY_PRIVATE_KEY_FILE": str(key_dir / "merchant_private.pem"),
        "WXPAY_PUBLIC_KEY_FILE": str(key_dir / "merchant_public.pem"),
        "ALIPAY_APP_PRIVATE_KEY_FILE": str(key_dir / "alipay_private.pem"),
        "ALIPAY_PUBLIC_KEY_FILE": str(key_dir / "alipay_public.pem"),
        "PAYMENT_GATEWAYS": "wechatpay_v3,wechatpay_v2,alipay",
        "PAYMENT_NOTIFY_BASE_URL": "https://yiqiao.hospital.example.cn",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://yiqiao@127.0.0.1:5432/yiqiao",  # a local database is fine
        "REDIS_URL": "redis://127.0.0.1:6379/0", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "WX_API_BASE": "https://api.weixin.qq.com/", "HIS_WSDL_URL": "http://10.20.0.5:8101/his/ws?wsdl",
        "HEALTH_CARD_API_BASE": "https://health-card-platform.example.cn",
        "SMS_ENDPOINT": "https://sms.tencentcloudapi.com"}
    return settings | changes


def refusal(settings: dict, root: str = ROOT) -> str:
    with pytest.raises(RuntimeError) as raised:
        config_checks.check(settings, root)
    return str(raised.value)


def test_a_configuration_with_fresh_secrets_and_real_urls_starts(key_dir):
    config_checks.check(production(key_dir))


def _env_example() -> dict[str, str]:
    values = {}
    with open(os.path.join(ROOT, ".env.example"), encoding="utf-8") as fh:
        for line in fh:
            if "=" in line and not line.lstrip().startswith("#"):
                name, value = line.split("=", 1)
                values[name.strip()] = value.split("#", 1)[0].strip()
    return values


def test_the_secrets_of_env_example_are_refused_however_they_are_copied(key_dir):
    example = _env_example()
    settings = production(key_dir) | {name: value for name, value in config.load(example).items()
                                      if name in ("SECRET_KEY", "DATA_KEY")}
    message = refusal(settings)
    assert "SECRET_KEY" in message and "DATA_KEY" in message
    assert example["SECRET_KEY"] not in message


@pytest.mark.parametrize("name", ["SECRET_KEY", "WX_SECRET", "HEALTH_CARD_APP_SECRET", "WXPAY_APIV3_KEY",
                                  "WXPAY_V2_API_KEY"])
def test_a_strong_secret_written_anywhere_in_the_repository_is_refused(tmp_path, key_dir, name):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "docs").mkdir()
    leaked = secrets.token_urlsafe(32)
    (tmp_path / "docs" / "howto.md").write_text(f"for example {name}={leaked}\n")
    message = refusal(production(key_dir, **{name: leaked}), str(tmp_path))
    assert f"{name} is written in docs/howto.md" in message and leaked not in message


def test_the_data_key_is_found_as_its_bytes_and_their_hex_too(tmp_path, key_dir):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    raw = os.urandom(32)
    (tmp_path / "vectors.txt").write_text(f"key = {raw.hex()}\n")
    assert "DATA_KEY is written in vectors.txt" in refusal(
        production(key_dir, DATA_KEY=base64.b64encode(raw).decode()), str(tmp_path))
    assert "DATA_KEY is written in bff/config.py" in refusal(production(key_dir, DATA_KEY=config.DEFAULT_DATA_KEY))


def test_the_sandbox_keys_are_refused_even_rewrapped_and_the_operators_env_file_is_not_read(tmp_path, key_dir):
    from sandbox import keys as sandbox_keys

    (tmp_path / "pyproject.toml").write_text("[project]\n")
    made = sandbox_keys.ensure(str(tmp_path / "var" / "keys"))
    # The sandbox's merchant key, converted to PKCS#1 and copied where production keeps its keys.
    key = serialization.load_pem_private_key(made.private_key("merchant").encode(), password=None)
    copied = tmp_path / "etc-yiqiao-merchant.pem"
    copied.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption()))
    shutil.copy(made.public_key_path("wechatpay_platform"), tmp_path / "platform.pem")
    own = production(key_dir)
    (tmp_path / ".env").write_text(f"SECRET_KEY={own['SECRET_KEY']}\n")  # hospital IT's own file beside the checkout
    message = refusal(production(key_dir, SECRET_KEY=own["SECRET_KEY"], WXPAY_APIV3_KEY=made.secrets["apiv3_key"],
                                 WXPAY_PRIVATE_KEY_FILE=str(copied),
                                 WXPAY_PUBLIC_KEY_FILE=str(tmp_path / "platform.pem"),
                                 ALIPAY_APP_PRIVATE_KEY_FILE=made.private_key_path("alipay_app")), str(tmp_path))
    assert "WXPAY_APIV3_KEY is written in var/keys/secrets.json" in message
    assert "ALIPAY_APP_PRIVATE_KEY_FILE is written in var/keys/alipay_app_private.pem" in message
    assert "WXPAY_PRIVATE_KEY_FILE is written in var/keys/merchant_private.pem" in message
    assert "WXPAY_PUBLIC_KEY_FILE is written in var/keys/wechatpay_platform_public.pem" in message
    assert "SECRET_KEY" not in message


def test_hospital_its_own_key_file_kept_in_an_untracked_checkout_is_not_taken_for_a_leak(tmp_path, key_dir):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "keys").mkdir()
    shutil.copy(key_dir / "merchant_private.pem", tmp_path / "keys" / "apiclient_key.pem")
    config_checks.check(production(key_dir, WXPAY_PRIVATE_KEY_FILE=str(tmp_path / "keys" / "apiclient_key.pem")),
                        str(tmp_path))


WEAK = ["a" * 40, "1234567890" * 4, "abcdefghijklmnopqrstuvwxyzABCDEF0123", "Password123" * 3,
        "change-me-please-to-something-random-0001", "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f", "Zq8!xT2#"]


@pytest.mark.parametrize("value", WEAK)
@pytest.mark.parametrize("name", ["SECRET_KEY", "WXPAY_APIV3_KEY", "WXPAY_V2_API_KEY", "WX_SECRET"])
def test_short_or_predictable_secrets_are_refused_without_being_printed(key_dir, name, value):
    message = refusal(production(key_dir, **{name: value}))
    assert name in message and value not in message


@pytest.mark.parametrize("value", [base64.b64encode(b"k" * 32).decode(), base64.b64encode(bytes(range(32))).decode(),
                                   base64.b64encode(os.urandom(16)).decode(), "not base64 at all!"])
def test_a_data_key_that_is_not_32_random_bytes_is_refused(key_dir, value):
    assert "DATA_KEY" in refusal(production(key_dir, DATA_KEY=value))


def test_every_problem_is_listed_at_once(key_dir):
    message = refusal(production(key_dir, SECRET_KEY="short", WX_SECRET="", DATA_KEY="", ENV_NAME="staging",
                                 WX_API_BASE="http://127.0.0.1:8102/"))
    for name in ("YIQIAO_ENV", "SECRET_KEY", "WX_SECRET", "DATA_KEY", "WX_API_BASE"):
        assert name in message


def test_key_files_must_be_readable_rsa_keys_of_2048_bits(tmp_path, key_dir):
    private, _public = _write_pair(tmp_path, "small", bits=1024)
    message = refusal(production(key_dir, ALIPAY_APP_PRIVATE_KEY_FILE=private,
                                 WXPAY_PRIVATE_KEY_FILE=str(tmp_path / "missing.pem")))
    assert "ALIPAY_APP_PRIVATE_KEY_FILE is a 1024-bit key" in message
    assert "WXPAY_PRIVATE_KEY_FILE cannot be read" in message


def test_gateway_keys_are_needed_only_for_the_gateways_in_use(key_dir):
    config_checks.check(production(key_dir, PAYMENT_GATEWAYS="alipay", WXPAY_APIV3_KEY="", WXPAY_V2_API_KEY="",
                                   WXPAY_PRIVATE_KEY_FILE="", WXPAY_PUBLIC_KEY_FILE=""))
    assert "WXPAY_APIV3_KEY is not set" in refusal(production(key_dir, WXPAY_APIV3_KEY=""))


@pytest.mark.parametrize("raw", ["production", "Production", " PRODUCTION "])
def test_production_in_any_case_runs_the_checks(raw):
    loaded = config.load({"YIQIAO_ENV": raw})
    assert loaded["ENV_NAME"] == "production"
    assert "SECRET_KEY" in refusal(loaded)


@pytest.mark.parametrize("raw", ["development", "Development", "DEVELOPMENT"])
def test_development_in_any_case_starts_with_the_sandbox_settings(raw):
    config_checks.check(config.load({"YIQIAO_ENV": raw}))


@pytest.mark.parametrize("raw", ["prod", "staging", "Staging", "produciton", "dev", "test", "sandbox"])
def test_any_other_running_mode_refuses_to_start_even_with_good_settings(key_dir, raw):
    message = refusal(production(key_dir, ENV_NAME=config.load({"YIQIAO_ENV": raw})["ENV_NAME"]))
    assert "YIQIAO_ENV" in message and "production or development" in message


LOOPBACK_OR_SANDBOX = ["http://127.0.0.1:8102/", "https://localhost/", "https://LOCALHOST./x", "https://[::1]/",
                       "https://0.0.0.0/", "https://127.1/", "https://2130706433/", "https://[::ffff:127.0.0.1]/",
                       "https://127.8.9.10/", "https://api.localhost/", "https://sandbox.hospital.example.cn/",
                       "https://api.weixin.qq.com:8102/", "https://openapi-sandbox.dl.alipaydev.com/gateway.do",
                       "https://api.mch.weixin.qq.com/sandboxnew/"]


@pytest.mark.parametrize("url", LOOPBACK_OR_SANDBOX)
@pytest.mark.parametrize("name", ["WX_API_BASE", "WXPAY_API_BASE", "WXPAY_V2_API_BASE", "WXPAY_FACE_API_BASE",
                                  "ALIPAY_SERVER_URL", "HEALTH_CARD_API_BASE", "PAYMENT_NOTIFY_BASE_URL",
                                  "SMS_ENDPOINT"])
def test_outside_systems_may_not_be_loopback_or_the_sandbox(key_dir, name, url):
    assert name in refusal(production(key_dir, **{name: url}))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8101/his/ws?wsdl", "http://localhost/his", "http://sandbox-his:80/"])
def test_the_his_may_be_plain_http_on_the_intranet_but_not_loopback(key_dir, url):
    assert "HIS_WSDL_URL" in refusal(production(key_dir, HIS_WSDL_URL=url))
    config_checks.check(production(key_dir, HIS_WSDL_URL="http://his.hospital.local:8101/ws?wsdl"))


@pytest.mark.parametrize("name", ["SMS_ENDPOINT", "SMS_API_BASE", "COURIER_API_BASE", "COURIER_URL"])
def test_a_new_outside_system_is_judged_by_its_setting_name(key_dir, name):
    assert name in refusal(production(key_dir, **{name: "http://127.0.0.1:8107"}))
    assert name in refusal(production(key_dir, **{name: "http://sms.example.cn"}))  # plain http over the internet
    config_checks.check(production(key_dir, **{name: "https://sms.tencentcloudapi.com"}))


def test_the_notify_base_must_be_public_but_only_when_gateways_are_in_use(key_dir):
    assert "PAYMENT_NOTIFY_BASE_URL" in refusal(production(key_dir, PAYMENT_NOTIFY_BASE_URL="https://10.0.0.8"))
    config_checks.check(production(key_dir, PAYMENT_GATEWAYS="", PAYMENT_NOTIFY_BASE_URL="http://127.0.0.1:8000"))


def test_the_sandbox_port_block_covers_every_simulator():
    from sandbox.__main__ import PORTS

    assert all(default in config_checks.SANDBOX_PORTS for _var, default in PORTS.values())


def test_random_secrets_of_the_documented_shapes_pass_the_strength_rule():
    for _ in range(200):
        assert not weaknesses(secrets.token_hex(16), Rule(32, 80))  # a WeChat AppSecret
        assert not weaknesses(secrets.token_urlsafe(48), Rule(32, 80))
        assert not weaknesses(os.urandom(32), config_checks.DATA_KEY_RULE)


@pytest.mark.parametrize("name", ["SMS_SECRET_KEY", "COURIER_APP_SECRET", "COURIER_API_KEY"])
def test_a_new_gateways_secret_is_judged_by_its_setting_name(key_dir, name):
    assert name in refusal(production(key_dir, **{name: "sms-sandbox-secret"}))
    assert name in refusal(production(key_dir, **{name: "abcdabcdabcdabcd"}))
    config_checks.check(production(key_dir, **{name: secrets.token_urlsafe(24)}))


def test_a_new_private_key_file_is_judged_by_its_setting_name(tmp_path, key_dir):
    private, _public = _write_pair(tmp_path, "courier", bits=1024)
    message = refusal(production(key_dir, COURIER_PRIVATE_KEY_FILE=private))
    assert "COURIER_PRIVATE_KEY_FILE is a 1024-bit key" in message


def test_in_a_git_checkout_the_tracked_files_are_read_not_the_untracked_ones(tmp_path, key_dir):
    import subprocess

    (tmp_path / "pyproject.toml").write_text("[project]\n")
    tracked, untracked = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    (tmp_path / "README.md").write_text(f"SECRET_KEY={tracked}\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "README.md", "pyproject.toml"], cwd=tmp_path, check=True)
    (tmp_path / "local-notes.txt").write_text(f"SECRET_KEY={untracked}\n")  # hospital IT's, never committed
    assert "SECRET_KEY is written in README.md" in refusal(production(key_dir, SECRET_KEY=tracked), str(tmp_path))
    config_checks.check(production(key_dir, SECRET_KEY=untracked), str(tmp_path))
