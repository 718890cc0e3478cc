"""The BFF's settings for talking to the sandbox simulators: one place, used by `make run`, tests and bench.

Given the simulators' base URLs and the keys made at set-up, answers the environment (names as in
`.env.example`) that points every adapter of the BFF at its simulator with the right credentials.
"""
from __future__ import annotations


def bff_settings(urls: dict[str, str], keys, tls_files, payment_mode: str | None = None) -> dict[str, str]:
    """Environment for a BFF using the sandbox at urls ({"his": "http://127.0.0.1:8101", …})."""
    secrets = keys.secrets
    settings = {
        "HIS_WSDL_URL": f"{urls['his']}/his/ws?wsdl",
        "WX_API_BASE": f"{urls['wechat']}/",
        "PAYMENT_GATEWAYS": "wechatpay_v3,wechatpay_v2,alipay",
        "WXPAY_MCHID": secrets["wechatpay_mchid"], "WXPAY_APPID": secrets["wechatpay_appid"],
        "WXPAY_PRIVATE_KEY_FILE": keys.private_key_path("merchant"),
        "WXPAY_MERCHANT_SERIAL": secrets["merchant_serial"], "WXPAY_APIV3_KEY": secrets["apiv3_key"],
        "WXPAY_PUBLIC_KEY_FILE": keys.public_key_path("wechatpay_platform"),
        "WXPAY_PUBLIC_KEY_ID": secrets["wechatpay_public_key_id"], "WXPAY_API_BASE": urls["wechatpay"],
        "WXPAY_V2_API_KEY": secrets["apiv2_key"], "WXPAY_V2_API_BASE": f"{urls['wechatpay_tls']}/",
        "WXPAY_V2_CERT_FILE": tls_files.client_cert, "WXPAY_V2_KEY_FILE": tls_files.client_key,
        "WXPAY_V2_CA_FILE": tls_files.ca_cert, "WXPAY_FACE_API_BASE": f"{urls['wechatpay']}/",
        "ALIPAY_APP_ID": secrets["alipay_app_id"], "ALIPAY_SELLER_ID": secrets["alipay_seller_id"],
        "ALIPAY_APP_PRIVATE_KEY_FILE": keys.private_key_path("alipay_app"),
        "ALIPAY_PUBLIC_KEY_FILE": keys.public_key_path("alipay_platform"),
        "ALIPAY_SERVER_URL": f"{urls['alipay']}/gateway.do",
        "HEALTH_CARD_API_BASE": urls["healthcard"],
        "SMS_ADAPTER": "tencent", "SMS_ENDPOINT": urls["sms"], "SMS_SECRET_ID": secrets["sms_secret_id"],
        "SMS_SECRET_KEY": secrets["sms_secret_key"], "SMS_SDK_APP_ID": secrets["sms_sdk_app_id"],
        "SMS_SIGN_NAME": secrets["sms_sign_name"], "SMS_TEMPLATE_ID": secrets["sms_template_id"],
        "FACEPAY_POLL_SECONDS": "0.5", "FACEPAY_WAIT_SECONDS": "5",
    }
    if payment_mode:
        settings["PAYMENT_MODE"] = payment_mode
    return settings


def default_urls() -> dict[str, str]:
    """The simulators' URLs on their default (or environment-given) ports."""
    from sandbox.__main__ import ports_from_env

    return {name: f"{'https' if name == 'wechatpay_tls' else 'http'}://127.0.0.1:{port}"
            for name, port in ports_from_env().items()}


def config_overrides(settings: dict[str, str]) -> dict:
    """The same settings as Flask config values (for an app built in-process, e.g. by tests)."""
    from bff import config

    loaded = config.load(settings)
    return {name: loaded[name] for name in settings if name in loaded}
