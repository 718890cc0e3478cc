"""Settings from the environment: every one is documented in `.env.example`."""
from __future__ import annotations

import base64
import contextvars
import os
from collections.abc import Mapping

from bff import config_checks
from bff.config_checks import env_name

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 -- the sandbox default production refuses
# 32 zero-ish bytes, base64: fine for the sandbox, refused in production.
DEFAULT_DATA_KEY = base64.b64encode(b"yiqiao-sandbox-data-key-32bytes!").decode()


# Where settings are read from: the process environment, or a mapping given to load().
_source: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("settings_source", default=None)


def _env(name: str, default: str | None = None) -> str | None:
    value = (_source.get() or os.environ).get(name)
    return default if value is None or value == "" else value


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def _optional_bool(name: str) -> bool | None:
    value = _env(name)
    return None if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _database_url() -> str:
    url = _env("DATABASE_URL", "sqlite:///" + os.path.abspath("var/yiqiao.sqlite3"))
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3 anyway; say so explicitly.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load(environ: Mapping[str, str] | None = None) -> dict:
    """Build the Flask config mapping from environment variables (or from `environ` when given)."""
    token = _source.set({**os.environ, **environ}) if environ is not None else None
    try:
        return _load()
    finally:
        if token is not None:
            _source.reset(token)


def _load() -> dict:
    return {
        # Fail closed: unset is production; any case is accepted, any other name is refused at start-up.
        "ENV_NAME": env_name(_env("YIQIAO_ENV")),
        # /api/docs (Swagger UI): on in development, off in production unless turned on; unset: None.
        "API_DOCS_ENABLED": _optional_bool("API_DOCS_ENABLED"),
        "SECRET_KEY": _env("SECRET_KEY", DEFAULT_SECRET),
        "DATA_KEY": _env("DATA_KEY", DEFAULT_DATA_KEY),
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "DB_PING_IDLE_SECONDS": _float("DB_PING_IDLE_SECONDS", 10.0),
        "TOKEN_TTL_SECONDS": _int("TOKEN_TTL_SECONDS", 7200),
        # WeChat mini-program login (code2Session)
        "WX_APPID": _env("WX_APPID", "wx-sandbox-appid"),
        "WX_SECRET": _env("WX_SECRET", "wx-sandbox-secret"),
        "WX_API_BASE": _env("WX_API_BASE", "http://127.0.0.1:8102/"),
        # HIS
        "HIS_ADAPTER": _env("HIS_ADAPTER", "xmlws"),
        "HIS_WSDL_URL": _env("HIS_WSDL_URL", "http://127.0.0.1:8101/his/ws?wsdl"),
        "HIS_MAPPING": _env("HIS_MAPPING", os.path.join(os.path.dirname(__file__), "his", "mappings", "sandbox.yaml")),
        "HIS_TIMEOUT_SECONDS": _float("HIS_TIMEOUT_SECONDS", 5.0),
        "HIS_BREAKER_FAILURES": _int("HIS_BREAKER_FAILURES", 5),
        "HIS_BREAKER_COOLDOWN_SECONDS": _float("HIS_BREAKER_COOLDOWN_SECONDS", 15.0),
        "HIS_BREAKER_PROBE_SECONDS": _float("HIS_BREAKER_PROBE_SECONDS", 2.0),
        # Booking rules
        "PAYMENT_MODE": _env("PAYMENT_MODE", "at_hospital"),
        "HOLD_MINUTES": _int("HOLD_MINUTES", 10),
        "BOOKING_RATE_LIMIT": _env("BOOKING_RATE_LIMIT", "10/minute"),
        "CANCEL_CUTOFF_MINUTES": _int("CANCEL_CUTOFF_MINUTES", 60),
        "CHECKIN_OPENS_MINUTES": _int("CHECKIN_OPENS_MINUTES", 60),
        "CHECKIN_LATE_MINUTES": _int("CHECKIN_LATE_MINUTES", 0),
        "MAX_PATIENTS_PER_USER": _int("MAX_PATIENTS_PER_USER", 5),
        # Proof before linking a person the HIS knows: an SMS code to the phone on file
        "VERIFY_CODE_MINUTES": _int("VERIFY_CODE_MINUTES", 5),
        "VERIFY_MAX_ATTEMPTS": _int("VERIFY_MAX_ATTEMPTS", 5),
        "VERIFY_RESEND_SECONDS": _int("VERIFY_RESEND_SECONDS", 60),
        "VERIFY_DAILY_PER_PHONE": _int("VERIFY_DAILY_PER_PHONE", 10),  # codes sent to one phone a day
        "VERIFY_DAILY_PER_USER": _int("VERIFY_DAILY_PER_USER", 10),  # codes one account asks for a day
        "VERIFY_DAILY_NAME_MISMATCHES": _int("VERIFY_DAILY_NAME_MISMATCHES", 5),  # per account and per ID
        "PENDING_RECOVERY_SECONDS": _int("PENDING_RECOVERY_SECONDS", 120),
        # Payments
        "PAYMENT_GATEWAYS": _env("PAYMENT_GATEWAYS", ""),  # e.g. wechatpay_v3,wechatpay_v2,alipay (dummy: tests)
        "PAY_WECHAT_APP_GATEWAY": _env("PAY_WECHAT_APP_GATEWAY", "wechatpay_v3"),
        "PAY_WECHAT_FACE_GATEWAY": _env("PAY_WECHAT_FACE_GATEWAY", "wechatpay_v2"),
        "PAYMENT_NOTIFY_BASE_URL": _env("PAYMENT_NOTIFY_BASE_URL", "http://127.0.0.1:8000"),
        "PAY_TIMEOUT_SECONDS": _float("PAY_TIMEOUT_SECONDS", 10.0),
        "FACEPAY_POLL_SECONDS": _float("FACEPAY_POLL_SECONDS", 3.0),
        "FACEPAY_WAIT_SECONDS": _float("FACEPAY_WAIT_SECONDS", 30.0),
        "WXPAY_MCHID": _env("WXPAY_MCHID", ""),
        "WXPAY_APPID": _env("WXPAY_APPID", _env("WX_APPID", "wx-sandbox-appid")),
        "WXPAY_PRIVATE_KEY_FILE": _env("WXPAY_PRIVATE_KEY_FILE", ""),
        "WXPAY_MERCHANT_SERIAL": _env("WXPAY_MERCHANT_SERIAL", ""),
        "WXPAY_APIV3_KEY": _env("WXPAY_APIV3_KEY", ""),
        "WXPAY_PUBLIC_KEY_FILE": _env("WXPAY_PUBLIC_KEY_FILE", ""),
        "WXPAY_PUBLIC_KEY_ID": _env("WXPAY_PUBLIC_KEY_ID", ""),
        "WXPAY_API_BASE": _env("WXPAY_API_BASE", "https://api.mch.weixin.qq.com"),
        "WXPAY_V2_API_KEY": _env("WXPAY_V2_API_KEY", ""),
        "WXPAY_V2_API_BASE": _env("WXPAY_V2_API_BASE", "https://api.mch.weixin.qq.com/"),
        "WXPAY_V2_CERT_FILE": _env("WXPAY_V2_CERT_FILE", ""),
        "WXPAY_V2_KEY_FILE": _env("WXPAY_V2_KEY_FILE", ""),
        "WXPAY_V2_CA_FILE": _env("WXPAY_V2_CA_FILE", ""),
        "WXPAY_FACE_API_BASE": _env("WXPAY_FACE_API_BASE", "https://payapp.weixin.qq.com/"),
        "ALIPAY_APP_ID": _env("ALIPAY_APP_ID", ""),
        "ALIPAY_SELLER_ID": _env("ALIPAY_SELLER_ID", ""),
        "ALIPAY_APP_PRIVATE_KEY_FILE": _env("ALIPAY_APP_PRIVATE_KEY_FILE", ""),
        "ALIPAY_PUBLIC_KEY_FILE": _env("ALIPAY_PUBLIC_KEY_FILE", ""),
        "ALIPAY_SERVER_URL": _env("ALIPAY_SERVER_URL", "https://openapi.alipay.com/gateway.do"),
        "ALIPAY_SIGNER": _env("ALIPAY_SIGNER", "cryptography"),
        "REFUND_CHECK_SECONDS": _int("REFUND_CHECK_SECONDS", 60),
        "BILL_PAY_MINUTES": _int("BILL_PAY_MINUTES", 30),
        "STUCK_PAYMENT_SECONDS": _int("STUCK_PAYMENT_SECONDS", 120),
        "RECONCILE_DIR": _env("RECONCILE_DIR", os.path.abspath("var/reconciliation")),
        "RECONCILE_AFTER_HOUR": _int("RECONCILE_AFTER_HOUR", 10),  # hospital time; the bills come in the morning
        # Electronic health card platform
        "HEALTH_CARD_API_BASE": _env("HEALTH_CARD_API_BASE", "http://127.0.0.1:8105"),
        "HEALTH_CARD_APP_ID": _env("HEALTH_CARD_APP_ID", "hc-sandbox-appid"),
        "HEALTH_CARD_APP_SECRET": _env("HEALTH_CARD_APP_SECRET", "hc-sandbox-secret"),
        "HEALTH_CARD_HOSPITAL_ID": _env("HEALTH_CARD_HOSPITAL_ID", "10001"),
        "HEALTH_CARD_HOSPITAL_NAME": _env("HEALTH_CARD_HOSPITAL_NAME", "医桥示范医院"),
        "HEALTH_CARD_TIMEOUT_SECONDS": _float("HEALTH_CARD_TIMEOUT_SECONDS", 5.0),
        # SMS verification codes: Tencent Cloud SMS (default: the sandbox simulator; keys from `make run`)
        "SMS_ADAPTER": _env("SMS_ADAPTER", "tencent"),
        "SMS_ENDPOINT": _env("SMS_ENDPOINT", "http://127.0.0.1:8107"),  # production: sms.tencentcloudapi.com
        "SMS_SECRET_ID": _env("SMS_SECRET_ID", ""),
        "SMS_SECRET_KEY": _env("SMS_SECRET_KEY", ""),
        "SMS_SDK_APP_ID": _env("SMS_SDK_APP_ID", ""),
        "SMS_SIGN_NAME": _env("SMS_SIGN_NAME", ""),
        "SMS_TEMPLATE_ID": _env("SMS_TEMPLATE_ID", ""),
        "SMS_REGION": _env("SMS_REGION", "ap-guangzhou"),
        "SMS_TIMEOUT_SECONDS": _float("SMS_TIMEOUT_SECONDS", 5.0),
        # Staff accounts
        "STAFF_TOKEN_TTL_SECONDS": _int("STAFF_TOKEN_TTL_SECONDS", 1800),
        "STAFF_MAX_FAILED_LOGINS": _int("STAFF_MAX_FAILED_LOGINS", 5),
        "STAFF_LOCKOUT_MINUTES": _int("STAFF_LOCKOUT_MINUTES", 15),
        "STAFF_LOGIN_RATE_LIMIT": _env("STAFF_LOGIN_RATE_LIMIT", "30/minute"),
        # Background work in production: Celery on this broker (JOBS_IN_PROCESS=0)
        "CELERY_BROKER_URL": _env("CELERY_BROKER_URL", _env("REDIS_URL")),
        "CELERY_QUEUE": _env("CELERY_QUEUE", "yiqiao"),
        # Infrastructure
        "REDIS_URL": _env("REDIS_URL"),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", _env("REDIS_URL", "memory://")),
        "JOBS_IN_PROCESS": _bool("JOBS_IN_PROCESS", True),
        "OUTBOX_LEASE_SECONDS": _int("OUTBOX_LEASE_SECONDS", 120),
        "IDEMPOTENCY_KEEP_HOURS": _int("IDEMPOTENCY_KEEP_HOURS", 24),
        "JOBS_INTERVAL_SECONDS": _float("JOBS_INTERVAL_SECONDS", 15.0),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        "PROXY_HOPS": _int("PROXY_HOPS", 0),  # reverse proxies in front that set X-Forwarded-For/-Proto
        "PROPAGATE_EXCEPTIONS": False,
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # every request the BFF takes is small JSON, XML or a form
    }


def check_production(config: dict) -> None:
    """Refuse to start in production with sandbox parts, known or weak secrets, or sandbox URLs (bff.config_checks).

    Production is the default (YIQIAO_ENV unset): only `make run`, the tests and the bench say development;
    any other value is refused.
    """
    config_checks.check(config)
