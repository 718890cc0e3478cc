"""Health card client tests: a client of hospital 10001's app against the simulator."""
from __future__ import annotations

import pytest

from health_card import HealthCardClient
from tests.integration.healthcard_platform import PlatformControl


@pytest.fixture
def client(platform: PlatformControl) -> HealthCardClient:
    """A client of hospital 10001's app."""
    return platform.client("a")


@pytest.fixture
def enrol(client):
    """Register a card for test person number seq at hospital 10001; answer (card, id_number)."""
    from health_card import CardHolder
    from tests.fakes import resident_id

    def register(seq: int, name: str = "张三", birthday: str = "19900307"):
        id_number = resident_id(seq, birthday)
        return client.register_health_card(CardHolder(name=name, id_number=id_number, phone="13912345678")), id_number

    return register
