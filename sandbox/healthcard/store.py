"""State of the simulated health card platform, in memory behind one lock.

Apps (one hospital each), app tokens, cards (one per ID number, shared by every hospital, as on
the real platform), QR codes, one-time health codes, card-to-HIS bindings and usage reports.

A QR code's text is ``<id>:<kind>:<mac>``: kind ``0`` static (the card's own code, valid
everywhere, never expires), ``1`` dynamic (issued to one hospital, expires after ``qr_ttl``);
the mac is an HMAC under a key only the platform holds, so an altered text is refused without a
look-up. Dynamic codes are kept a day past their expiry, so a late usage report still resolves.
"""
from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sandbox.healthcard import results as rc
from sandbox.healthcard.results import PlatformError

STATIC, DYNAMIC = "0", "1"
KEEP_EXPIRED = dt.timedelta(days=1)


@dataclass(frozen=True)
class SandboxApp:
    """One hospital's application on the platform."""

    app_id: str
    app_secret: str = field(repr=False)
    hospital_id: str
    hospital_name: str = ""


@dataclass(frozen=True)
class Card:
    health_card_id: str
    phid: str
    id_type: str
    id_number: str
    name: str
    gender: str
    birthday: dt.date
    phone: str
    nation: str
    address: str
    qr_code_text: str
    registered_by: str  # hospital id
    registered_at: dt.datetime


@dataclass(frozen=True)
class Code:
    code_id: str
    kind: str
    text: str
    health_card_id: str
    hospital_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked: bool = False  # expired by the control API


class Platform:
    """Thread-safe platform state; methods raise PlatformError with the platform's result codes."""

    def __init__(self, apps: list[SandboxApp], clock: Callable[[], dt.datetime], qr_ttl: int = 60,
                 token_ttl: int = 7200, health_code_ttl: int = 300):
        self.apps = {app.app_id: app for app in apps}
        self.clock = clock
        self.qr_ttl = qr_ttl
        self.default_token_ttl = token_ttl
        self.health_code_ttl = health_code_ttl
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every token, card, code, binding and report (apps stay)."""
        with self._lock:
            self._key = secrets.token_bytes(32)
            self.token_ttl = self.default_token_ttl
            self._tokens: dict[str, tuple[str, dt.datetime]] = {}
            self._token_fetches = 0
            self._calls: collections.Counter[str] = collections.Counter()
            self._cards: dict[str, Card] = {}  # by health card id
            self._by_id_number: dict[tuple[str, str], str] = {}
            self._codes: dict[str, Code] = {}
            self._dynamic_order: collections.deque[tuple[dt.datetime, str]] = collections.deque()
            self._health_codes: dict[str, tuple[str, dt.datetime]] = {}
            self._bindings: dict[tuple[str, str], dict] = {}
            self._reports: list[dict] = []
            self._report_ids: set[tuple[str, str]] = set()

    def count_call(self, operation: str) -> None:
        """Count a request as it arrives (faulted ones too): tests read how often a client tried."""
        with self._lock:
            self._calls[operation] += 1

    # -- app tokens ------------------------------------------------------------------------------

    def issue_token(self, app: SandboxApp, now: dt.datetime) -> tuple[str, int]:
        """A new app token and its lifetime in seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._token_fetches += 1
            self._tokens[token] = (app.app_id, now + dt.timedelta(seconds=self.token_ttl))
            return token, self.token_ttl

    def token_owner(self, token: object) -> tuple[SandboxApp, dt.datetime]:
        """The app a token was issued to and when it expires."""
        with self._lock:
            entry = self._tokens.get(token) if isinstance(token, str) else None
        if entry is None:
            raise PlatformError(rc.TOKEN_UNKNOWN, "appToken 无效")
        return self.apps[entry[0]], entry[1]

    def expire_tokens(self, app_id: str | None, now: dt.datetime) -> int:
        """Make the live tokens (of one app, or all) expire now; answer how many."""
        with self._lock:
            live = [t for t, (owner, until) in self._tokens.items() if until > now and app_id in (None, owner)]
            for token in live:
                self._tokens[token] = (self._tokens[token][0], now)
            return len(live)

    # -- cards -----------------------------------------------------------------------------------

    def register(self, app: SandboxApp, holder: dict, now: dt.datetime) -> Card:
        """The card of this ID number, created on first registration."""
        key = (holder["id_type"], holder["id_number"])
        with self._lock:
            existing = self._by_id_number.get(key)
            if existing is not None:
                card = self._cards[existing]
                if card.name != holder["name"]:
                    raise PlatformError(rc.ID_INVALID, "证件号码与姓名不符")
                return card
            card_id = secrets.token_hex(32).upper()
            code = self._new_code(STATIC, card_id, app.hospital_id, now, None)
            card = Card(health_card_id=card_id, phid=secrets.token_hex(16).upper(), qr_code_text=code.text,
                        registered_by=app.hospital_id, registered_at=now, **holder)
            self._cards[card_id] = card
            self._by_id_number[key] = card_id
            return card

    def card(self, health_card_id: str, id_type: str, id_number: str) -> Card:
        """The card, when the ID given is its holder's."""
        with self._lock:
            card = self._cards.get(health_card_id)
        if card is None or (card.id_type, card.id_number) != (id_type, id_number.upper()):
            raise PlatformError(rc.CARD_NOT_FOUND, "健康卡不存在")
        return card

    def issue_health_code(self, health_card_id: str, now: dt.datetime) -> str:
        """A one-time authorisation code for the card (what the card plug-in hands a hospital)."""
        code = secrets.token_urlsafe(16)
        with self._lock:
            if health_card_id not in self._cards:
                raise PlatformError(rc.CARD_NOT_FOUND, "健康卡不存在")
            self._health_codes[code] = (health_card_id, now + dt.timedelta(seconds=self.health_code_ttl))
        return code

    def use_health_code(self, code: str, now: dt.datetime) -> Card:
        """The card a health code stands for; the code is spent."""
        with self._lock:
            entry = self._health_codes.pop(code, None)
            if entry is None or now >= entry[1]:
                raise PlatformError(rc.HEALTH_CODE_INVALID, "healthCode 无效或已使用")
            return self._cards[entry[0]]

    # -- QR codes --------------------------------------------------------------------------------

    def _mac(self, code_id: str, kind: str) -> str:
        return hmac.new(self._key, f"{code_id}:{kind}".encode(), hashlib.sha256).hexdigest()[:16].upper()

    def _new_code(self, kind: str, card_id: str, hospital_id: str, now: dt.datetime,
                  expires_at: dt.datetime | None) -> Code:
        code_id = secrets.token_hex(16).upper()
        code = Code(code_id, kind, f"{code_id}:{kind}:{self._mac(code_id, kind)}", card_id, hospital_id, now,
                    expires_at)
        self._codes[code_id] = code
        return code

    def issue_dynamic(self, card: Card, hospital_id: str, now: dt.datetime) -> Code:
        """A dynamic code of the card for this hospital."""
        with self._lock:
            self._purge(now)
            code = self._new_code(DYNAMIC, card.health_card_id, hospital_id, now,
                                  now + dt.timedelta(seconds=self.qr_ttl))
            self._dynamic_order.append((code.expires_at, code.code_id))
            return code

    def _purge(self, now: dt.datetime) -> None:
        while self._dynamic_order and self._dynamic_order[0][0] + KEEP_EXPIRED < now:
            self._codes.pop(self._dynamic_order.popleft()[1], None)

    def resolve(self, text: object, hospital_id: str, now: dt.datetime,
                allow_expired: bool = False) -> tuple[Code, Card]:
        """The code and its card, refusing altered, unknown, other-hospital and expired codes."""
        parts = text.split(":") if isinstance(text, str) else []
        if len(parts) != 3 or not hmac.compare_digest(parts[2].encode(), self._mac(parts[0], parts[1]).encode()):
            raise PlatformError(rc.QR_INVALID, "二维码无效")
        with self._lock:
            code = self._codes.get(parts[0])
            card = self._cards.get(code.health_card_id) if code else None
        if code is None or card is None or code.kind != parts[1]:
            raise PlatformError(rc.QR_INVALID, "二维码无效")
        if code.kind == DYNAMIC:
            if code.hospital_id != hospital_id:
                raise PlatformError(rc.QR_OTHER_HOSPITAL, "非本院二维码")
            if not allow_expired and (code.revoked or now >= code.expires_at):
                raise PlatformError(rc.QR_EXPIRED, "二维码已过期")
        return code, card

    def revoke(self, text: str) -> bool:
        """Expire a dynamic code now; False when there is no such dynamic code."""
        with self._lock:
            code = self._codes.get(text.split(":", 1)[0])
            if code is None or code.text != text or code.kind != DYNAMIC:
                return False
            self._codes[code.code_id] = replace(code, revoked=True)
            return True

    # -- bindings and reports --------------------------------------------------------------------

    def bind(self, hospital_id: str, patid: str, card: Card, now: dt.datetime) -> None:
        """Bind the HIS patient id to the card at this hospital (again: nothing changes)."""
        with self._lock:
            bound = self._bindings.get((hospital_id, patid))
            if bound is not None and bound["health_card_id"] != card.health_card_id:
                raise PlatformError(rc.BINDING_CONFLICT, "该院内患者ID已绑定其他健康卡")
            if bound is None:
                self._bindings[(hospital_id, patid)] = {"hospital_id": hospital_id, "patid": patid,
                                                        "health_card_id": card.health_card_id,
                                                        "bound_at": now.isoformat()}

    def record_report(self, app: SandboxApp, request_id: str, report: dict) -> bool:
        """Keep a usage report; False when this request id was reported already."""
        with self._lock:
            if (app.app_id, request_id) in self._report_ids:
                return False
            self._report_ids.add((app.app_id, request_id))
            self._reports.append({"request_id": request_id, "app_id": app.app_id, **report})
            return True

    def reports(self) -> list[dict]:
        """Usage reports in the order received."""
        with self._lock:
            return [dict(r) for r in self._reports]

    def bindings(self) -> list[dict]:
        """Every binding."""
        with self._lock:
            return [dict(b) for b in self._bindings.values()]

    def stats(self) -> dict:
        """Counts of what the platform holds."""
        with self._lock:
            return {"cards": len(self._cards), "codes": len(self._codes), "bindings": len(self._bindings),
                    "reports": len(self._reports), "token_fetches": self._token_fetches,
                    "health_codes": len(self._health_codes), "calls": dict(self._calls)}
