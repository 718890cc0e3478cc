"""What the app factory wires together: the hooks lower domains call, the lists schemas accept."""
from bff.payments import orders


def test_every_order_type_a_payment_may_name_is_one_the_app_registered(app):
    # a name the schemas accept but nobody registered would be a 500 at the cashier, not a 422
    assert set(orders.ORDER_TYPES) == set(orders._types)

