"""One entry per payment gateway (bff.bootstrap.GATEWAYS): what the schemas accept derives from it."""
import pytest
from marshmallow import ValidationError

from bff import bootstrap, config
from bff.kiosk.schemas import FacePayIn
from bff.payments.schemas import PaymentIn
from payments.registry import CHANNELS


def test_every_gateway_reads_settings_the_configuration_has_and_serves_a_known_channel():
    known = config.load({})
    for setup in bootstrap.GATEWAYS.values():
        assert setup.channel in CHANNELS, setup.name
        assert set(setup.settings) <= set(known), setup.name


@pytest.mark.parametrize("schema", [PaymentIn(), FacePayIn()])
def test_a_payer_can_choose_every_channel_a_gateway_serves_and_no_other(schema):
    body = {k: v for k, v in {"order_type": "appointment", "order_id": "1", "auth_code": "x"}.items()
            if k in schema.fields}
    for channel in {setup.channel for setup in bootstrap.GATEWAYS.values()}:
        schema.load({**body, "channel": channel})
    with pytest.raises(ValidationError):
        schema.load({**body, "channel": "unionpay"})
