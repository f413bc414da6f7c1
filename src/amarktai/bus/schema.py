"""The published JSON Schema of the real-time protocol (served at `GET /api/v1/ws/schema`).

Built from the same pydantic models the server validates with, so the document can never
drift from what is actually sent.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from amarktai.bus.messages import (
    CLIENT_ADAPTER,
    CONTROL_TYPES,
    MESSAGE_MODELS,
    PUBLIC_TYPES,
    USER_TYPES,
    VERSION,
)

CLOSE_CODES: dict[int, str] = {
    1000: "normal closure",
    1001: "server going away (shutdown or restart): reconnect with last_seq",
    1009: "message too big: a client frame exceeded the server's limit "
    "(AMARKTAI_WS_MAX_MESSAGE_BYTES); reconnect with last_seq and send smaller messages",
    4400: "protocol violation: the first message was not a valid `auth` message",
    4401: "authentication failed: missing, invalid or expired access token (reason "
    "'unauthorized' at connect, 'token expired' on an open socket whose token expired "
    "without an in-band `auth`): refresh the token and reconnect with last_seq",
    4403: "session ended: logged out, session revoked, signed out everywhere, account "
    "deactivated, refresh token reused or session expired (the reason says which); do not "
    "reconnect with this session: sign in again",
    4008: "slow consumer: the per-connection send queue overflowed; reconnect with last_seq",
    4409: "last_seq is ahead of the stream (e.g. the stream was reset): refetch state "
    "over REST and reconnect without last_seq",
}


def server_message_schema() -> dict[str, Any]:
    models = tuple(MESSAGE_MODELS.values())
    union = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    schema: dict[str, Any] = TypeAdapter(union).json_schema(ref_template="#/$defs/{model}")
    return schema


@cache
def protocol_document() -> dict[str, Any]:
    """Everything a client author needs: message schemas, kinds, close codes."""
    return {
        "version": VERSION,
        "endpoint": "/api/v1/ws",
        "server_messages": server_message_schema(),
        "client_messages": CLIENT_ADAPTER.json_schema(ref_template="#/$defs/{model}"),
        "durable_types": sorted(USER_TYPES),
        "public_types": sorted(PUBLIC_TYPES),
        "control_types": sorted(CONTROL_TYPES),
        "close_codes": {str(code): text for code, text in CLOSE_CODES.items()},
    }
