"""Typed, versioned real-time messages: what the server sends and what a client may send.

Every server message is one JSON object `{"v", "type", "seq", "ts", "data"}`:

* `v` is the schema version (bumped only on an incompatible change; additions of optional
  fields keep it),
* `seq` is the per-user sequence number of a durable message (order, fill, bot_status,
  ...) and `null` for ephemeral ones (public market data, heartbeats, control replies),
* `data` is the type's payload model below.

Publishers validate the payload against its model once, when the message is made, so a
message that reaches the stream is well-formed for every consumer. Payload models allow
extra fields: a producer may add information without breaking older clients.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

VERSION: Literal[1] = 1

Decimalish = Annotated[str, Field(description="decimal number as a string")]


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- market data (public, ephemeral) ------------------------------------------------------
class PriceData(Payload):
    symbol: str
    price: Decimalish
    exchange: str = "sim"


class CandleData(Payload):
    symbol: str
    timeframe_s: int
    open_ts: datetime
    open: Decimalish
    high: Decimalish
    low: Decimalish
    close: Decimalish
    volume: Decimalish
    exchange: str = "sim"


class OrderBookData(Payload):
    symbol: str
    bids: list[tuple[Decimalish, Decimalish]] = Field(description="[price, qty], best first")
    asks: list[tuple[Decimalish, Decimalish]] = Field(description="[price, qty], best first")
    exchange: str = "sim"


class TradeData(Payload):
    symbol: str
    price: Decimalish
    qty: Decimalish
    side: Literal["buy", "sell"] | None = None
    exchange: str = "sim"


# -- the user's own events (durable, sequenced) -------------------------------------------
class OrderData(Payload):
    id: str
    bot_id: str | None = None
    symbol: str
    side: Literal["buy", "sell"]
    type: str
    qty: Decimalish
    status: str
    filled_qty: Decimalish
    avg_price: Decimalish | None = None


class FillData(Payload):
    id: str
    order_id: str
    bot_id: str | None = None
    symbol: str
    side: Literal["buy", "sell"]
    price: Decimalish
    qty: Decimalish
    fee: Decimalish
    ts: datetime


class PositionData(Payload):
    bot_id: str | None = None
    symbol: str
    qty: Decimalish
    avg_price: Decimalish | None = None
    unrealised_pnl: Decimalish | None = None


class BotStatusData(Payload):
    bot_id: str
    status: str
    reason: str | None = None


class MetricsData(Payload):
    bot_id: str | None = None
    values: dict[str, float | str | None]


class RiskData(Payload):
    bot_id: str | None = None
    rule: str
    outcome: str = Field(description="e.g. denied, breaker_tripped, breaker_reset")
    message: str


class AlertData(Payload):
    level: Literal["info", "warning", "critical"]
    code: str
    message: str
    bot_id: str | None = None


class InsightData(Payload):
    title: str
    body: str
    bot_id: str | None = None


class ChatData(Payload):
    role: Literal["user", "assistant", "system"]
    text: str
    thread_id: str | None = None


# -- control (ephemeral) ------------------------------------------------------------------
class HeartbeatData(Payload):
    interval_s: float


class ResumeData(Payload):
    """Sent once after authentication, before any replayed message.

    `gap` is true when messages after the client's `last_seq` were already trimmed from
    the retention window: the client must refetch its state over REST; replay then
    starts at `from_seq` (the oldest retained message)."""

    gap: bool
    last_seq: int | None = Field(description="what the client asked to resume after")
    from_seq: int = Field(description="first seq this connection will deliver")
    head_seq: int = Field(description="the newest seq in the stream when resuming")
    expires_at: datetime | None = Field(
        default=None,
        description="when the connection's access token expires: before then send an `auth` "
        "message with a fresh token, or the socket is closed with 4401 'token expired'",
    )


class AuthenticatedData(Payload):
    """The answer to an in-band `auth` on an open connection: the connection now runs on
    the fresh token, until its expiry."""

    expires_at: datetime


class ErrorData(Payload):
    code: str
    message: str


class PongData(Payload):
    nonce: str | int | None = None


class SubscribedData(Payload):
    bots: list[str] | None = None
    symbols: list[str] | None = None
    types: list[str] | None = None


class ServerMessageBase(BaseModel):
    v: Literal[1] = VERSION
    seq: int | None = Field(default=None, description="per-user sequence; null if ephemeral")
    ts: datetime


def _message(type_name: str, data: type[Payload]) -> type[ServerMessageBase]:
    """One concrete message model: the base envelope with a literal `type` and its data."""
    title = "".join(part.title() for part in type_name.split("_")) + "Message"
    literal = Literal[type_name]  # type: ignore[valid-type]
    return create_model(title, __base__=ServerMessageBase, type=(literal, ...), data=(data, ...))


PUBLIC_TYPES: dict[str, type[Payload]] = {
    "price": PriceData,
    "candle": CandleData,
    "order_book": OrderBookData,
    "trade": TradeData,
}
USER_TYPES: dict[str, type[Payload]] = {
    "order": OrderData,
    "fill": FillData,
    "position": PositionData,
    "bot_status": BotStatusData,
    "metrics": MetricsData,
    "risk": RiskData,
    "alert": AlertData,
    "insight": InsightData,
    "chat": ChatData,
}
CONTROL_TYPES: dict[str, type[Payload]] = {
    "heartbeat": HeartbeatData,
    "resume": ResumeData,
    "error": ErrorData,
    "pong": PongData,
    "subscribed": SubscribedData,
    "authenticated": AuthenticatedData,
}
ALL_TYPES = {**PUBLIC_TYPES, **USER_TYPES, **CONTROL_TYPES}
MESSAGE_MODELS = {name: _message(name, data) for name, data in ALL_TYPES.items()}


# -- client → server ----------------------------------------------------------------------
class ClientBase(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthMessage(ClientBase):
    """First message when the token is not in the URL (keeps it out of proxy logs).

    Sent again on an open connection, with a fresh access token of the same user, it
    re-authenticates in band: the connection's expiry moves to the new token's (answer:
    `authenticated`) and nothing is replayed (`last_seq` is ignored then). A token that
    fails gets an `error` (`auth_failed`) and the connection keeps its old expiry."""

    type: Literal["auth"]
    token: str
    last_seq: int | None = Field(default=None, ge=0)


class SubscribeMessage(ClientBase):
    """Replace the connection's filter; `null` means everything of that kind."""

    type: Literal["subscribe"]
    bots: list[str] | None = None
    symbols: list[str] | None = None
    types: list[str] | None = None


class PingMessage(ClientBase):
    type: Literal["ping"]
    nonce: str | int | None = None


ClientMessage = Annotated[AuthMessage | SubscribeMessage | PingMessage, Field(discriminator="type")]
CLIENT_ADAPTER: TypeAdapter[AuthMessage | SubscribeMessage | PingMessage] = TypeAdapter(
    ClientMessage
)


# -- encoding -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Envelope:
    """A message ready for the wire, rendered once and shared by every recipient.

    `bot_id`/`symbol` are lifted out of the payload so subscription filters never parse
    JSON on the hot path."""

    seq: int | None
    type: str
    text: str
    bot_id: str | None = None
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class Body:
    """A validated message without its seq (the stream assigns it)."""

    type: str
    json: str
    bot_id: str | None
    symbol: str | None

    def render(self, seq: int | None) -> Envelope:
        return Envelope(seq, self.type, with_seq(self.json, seq), self.bot_id, self.symbol)


def with_seq(body_json: str, seq: int | None) -> str:
    """Prefix the body object with its seq: cheaper than re-serialising per message."""
    return '{"seq":' + ("null" if seq is None else str(seq)) + "," + body_json[1:]


def make_body(type_name: str, data: BaseModel | dict[str, Any], ts: datetime) -> Body:
    """Validate `data` against the type's payload model and serialise the envelope."""
    model = ALL_TYPES.get(type_name)
    if model is None:
        raise ValueError(f"unknown message type {type_name!r}")
    raw = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    payload = model.model_validate(raw).model_dump(mode="json")
    text = json.dumps(
        {"v": VERSION, "type": type_name, "ts": ts.isoformat(), "data": payload},
        separators=(",", ":"),
    )
    return Body(type_name, text, payload.get("bot_id"), payload.get("symbol"))


def control(type_name: str, data: dict[str, Any], ts: datetime) -> Envelope:
    return make_body(type_name, data, ts).render(None)


# -- server → server ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Revocation:
    """An ended session, for the hub of every process: its sockets must close now.

    Never sent to a client (it goes over the bus's system channel, not a user stream).
    `session_id` None means every session of the user (revoke-all, deactivation);
    `reason` is the close reason the client reads (at most 123 bytes on the wire)."""

    user_id: str
    session_id: str | None
    reason: str

    def to_json(self) -> str:
        data = {"u": self.user_id, "s": self.session_id, "r": self.reason}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Revocation:
        data = json.loads(raw)
        return cls(str(data["u"]), None if data["s"] is None else str(data["s"]), str(data["r"]))
