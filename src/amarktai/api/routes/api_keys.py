"""Exchange API keys: stored encrypted, only ever shown masked."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import Field

from amarktai.accounts.service import EXCHANGES
from amarktai.api.deps import AccountsDep, CallerDep, ClientDep, TraderDep, require_feature
from amarktai.api.schemas import RequestModel, ResponseModel

router = APIRouter(
    prefix="/api/v1/api-keys", tags=["api keys"], dependencies=[require_feature("exchange_keys")]
)


class ApiKeyIn(RequestModel):
    exchange: str = Field(description=f"one of {', '.join(EXCHANGES)}", max_length=32)
    label: str = Field(default="", max_length=100)
    api_key: str = Field(min_length=1, max_length=256)
    api_secret: str = Field(min_length=1, max_length=256)
    passphrase: str | None = Field(default=None, max_length=256)


class ApiKeyOut(ResponseModel):
    id: str
    exchange: str
    label: str
    key_hint: str = Field(description="masked key; the secret is never returned")
    created_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyOut)
async def add_key(
    body: ApiKeyIn, caller: TraderDep, accounts: AccountsDep, client: ClientDep
) -> ApiKeyOut:
    row = await accounts.add_api_key(
        caller.user,
        exchange=body.exchange,
        label=body.label,
        api_key=body.api_key,
        api_secret=body.api_secret,
        passphrase=body.passphrase,
        client=client,
    )
    return ApiKeyOut.model_validate(row)


@router.get("", response_model=list[ApiKeyOut])
async def list_keys(caller: CallerDep, accounts: AccountsDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(r) for r in await accounts.repo.api_keys(caller.id)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_key(
    key_id: str, caller: TraderDep, accounts: AccountsDep, client: ClientDep
) -> None:
    await accounts.delete_api_key(caller.user, key_id, client)
