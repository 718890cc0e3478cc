"""What can be paid for: each order type (appointment, bills) tells the cashier three things.

The payment flows know nothing of appointments or bills: they ask the order type registered
here what is owed, and tell it when the money has arrived or gone back.
"""
from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Payable:
    """What an order asks to be paid."""

    order_type: str
    order_id: str
    user_id: int | None
    amount: int  # fen
    description: str  # shown to the payer, e.g. "挂号费-心血管内科"
    expires_at: dt.datetime | None = None  # after this the order no longer takes money


class OrderType(abc.ABC):
    """One kind of order the cashier takes money for."""

    name = "abstract"

    @abc.abstractmethod
    def payable(self, order_id: str, user_id: int | None) -> Payable:
        """What is owed now; AppError when it is not payable, 404 when not the user's (None: a kiosk)."""

    @abc.abstractmethod
    def receipt(self, order_id: str) -> dict:
        """The order's `order_status` and `receipt_no` (what a kiosk prints once it is paid)."""

    @abc.abstractmethod
    def fulfil(self, payment) -> None:
        """The money has arrived: do what was paid for (runs from the outbox, idempotent).

        Raise to be retried later; when it can never be done, refund through the cashier.
        """

    @abc.abstractmethod
    def refunded(self, payment) -> None:
        """The money has gone back in full (the order's status may follow)."""

    @abc.abstractmethod
    def fulfilled(self, payment) -> bool:
        """True when what the payment paid for was done in the HIS (and not undone since)."""


# The order types the app registers at start (appointment.orders, billing.service); a test holds them equal.
ORDER_TYPES = ("appointment", "bills")
_types: dict[str, OrderType] = {}


def register(order_type: OrderType) -> None:
    """Make an order type payable."""
    _types[order_type.name] = order_type


def of(name: str) -> OrderType:
    """The registered order type; KeyError for an unknown one."""
    return _types[name]

