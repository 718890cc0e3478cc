"""Paying for orders: payments through the configured gateways, notifications, refunds, the ledger."""
