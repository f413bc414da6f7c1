"""Operator commands: migrations, users, audit-chain verification, encryption-key rotation,
a new export signing key."""

from __future__ import annotations

import typer
from cryptography.fernet import Fernet

from amarktai.accounts import audit
from amarktai.cli.common import console, err_console, fail, run_with_runtime
from amarktai.config import Settings, read_secrets_file, secrets_path, write_secrets_file
from amarktai.db.engine import transaction
from amarktai.kit import signing
from amarktai.kit.errors import NotFound
from amarktai.kit.hashchain import ChainBreak
from amarktai.runtime import Runtime, build_runtime

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Security audit log.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Encryption keys for stored secrets; the export signing key.", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""

    async def work(rt: Runtime) -> None:
        await rt.migrate()

    run_with_runtime(work)
    console.print("database is at the latest migration")


@users_app.command("create")
def users_create(
    email: str = typer.Option(..., help="e-mail address"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    admin: bool = typer.Option(False, "--admin", help="give the admin role"),
    viewer: bool = typer.Option(False, "--viewer", help="give the read-only viewer role"),
) -> None:
    """Create a user (trader by default)."""
    if admin and viewer:
        fail("choose one of --admin and --viewer")
    role = "admin" if admin else "viewer" if viewer else "trader"

    async def work(rt: Runtime) -> str:
        await rt.migrate()
        async with transaction(rt.sessions) as session:
            user = await rt.accounts(session).register(email, password, role=role)
            return user.id

    user_id = run_with_runtime(work)
    console.print(f"created {role} {email} ({user_id})")


@users_app.command("set-password")
def users_set_password(
    email: str = typer.Option(..., help="e-mail address"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Reset a user's password (prompted); every session of theirs is signed out."""

    async def work(rt: Runtime) -> int:
        async with transaction(rt.sessions) as session:
            accounts = rt.accounts(session)
            user = await accounts.repo.user_by_email(email.strip().lower())
            if user is None:
                raise NotFound(f"no user {email}", code="user_not_found")
            return await accounts.set_password(user, password, by="cli")

    ended = run_with_runtime(work)
    console.print(f"password of {email} reset; {ended} session(s) signed out")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; exit 1 and name the first broken entry if tampered."""

    async def work(rt: Runtime) -> tuple[int, ChainBreak | None]:
        async with rt.sessions() as session:
            return await audit.verify(session)

    count, broken = run_with_runtime(work)
    if broken is not None:
        fail(f"audit chain broken at entry {broken.entry_id}: {broken.reason}")
    console.print(f"audit chain intact: {count} entries verified")


@keys_app.command("rotate")
def keys_rotate(
    drop_old: bool = typer.Option(
        False, "--drop-old", help="forget the old keys after re-encrypting (data-dir keys only)"
    ),
) -> None:
    """Re-encrypt every stored secret under a new primary key.

    With keys in the data dir a new key is generated and put first. With keys from
    AMARKTAI_ENCRYPTION_KEYS, put the new key first in that variable yourself, then run this.
    """
    settings = Settings()
    from_env = settings.encryption_keys is not None
    if not from_env:
        build_runtime(settings)  # make sure the secrets file exists
        path = secrets_path(settings)
        stored = read_secrets_file(path)
        old = [str(k) for k in stored.get("encryption_keys", [])]  # type: ignore[attr-defined]
        stored["encryption_keys"] = [Fernet.generate_key().decode(), *old]
        write_secrets_file(path, stored)

    async def work(rt: Runtime) -> int:
        async with transaction(rt.sessions) as session:
            return await rt.accounts(session).rotate_encryption()

    count = run_with_runtime(work)
    if drop_old and not from_env:
        path = secrets_path(settings)
        stored = read_secrets_file(path)
        stored["encryption_keys"] = list(stored["encryption_keys"])[:1]  # type: ignore[call-overload]
        write_secrets_file(path, stored)
    console.print(f"re-encrypted {count} stored secrets under the new primary key")


@keys_app.command("new-signing-key")
def keys_new_signing_key() -> None:
    """Print a new Ed25519 private key for AMARKTAI_SIGNING_KEY (production needs one).

    Nothing is stored: set it in the environment yourself. Exports signed with the old
    key then verify only against the old public key, so keep publishing that one too."""
    private = signing.generate_private_text()
    public = signing.load_private(private).public_key()
    print(private)
    err_console.print(
        f"public key {signing.public_text(public)} (key id {signing.key_id(public)})",
        highlight=False,
    )
