"""Alipay integration fixtures (simulator, notification receiver, gateway), from tests/integration/alipay_fixtures."""
from tests.integration.alipay_fixtures import *  # noqa: F403
