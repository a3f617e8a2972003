"""``asciihub user create`` and ``asciihub token create``: accounts from the command line."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from asciihub.cli._runtime import run_with_services
from asciihub.cli.app import app, state
from asciihub.errors import InvalidInput, NotFound

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        message = "no password given (type it at the prompt or pipe it on stdin)"
        raise InvalidInput(message, code="invalid_password")
    return password


@user_app.command("create")
def create_user(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="The new user's handle.")],
    email: Annotated[str | None, typer.Option(help="An optional email address.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Create a user; the password comes from a prompt or stdin, never an argument."""
    password = _read_password(password_stdin)

    async def work(built: Any) -> Any:
        return await built.auth.accounts.create_user(handle, password, email)

    account = run_with_services(state(ctx).settings(), work)
    typer.echo(f"created user {account.handle} ({account.id})")


@token_app.command("create")
def create_token(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Whose token it is.")],
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read or write (repeat for both).")
    ] = None,
) -> None:
    """Create an API token for a user and print it (it is shown only this once)."""
    scopes = tuple(dict.fromkeys(scope or ["read", "write"]))
    if not scopes or any(item not in ("read", "write") for item in scopes):
        message = "--scope must be read or write"
        raise InvalidInput(message, code="invalid_scopes")
    if "write" in scopes:
        scopes = ("read", "write")

    async def work(built: Any) -> dict[str, Any]:
        account = await built.auth.accounts.accounts.get_by_handle(handle)
        if account is None or account.is_local:
            message = f"no user with handle {handle!r}"
            raise NotFound(message, code="user_not_found")
        issued: dict[str, Any] = await built.auth.tokens.issue(account.id, name, scopes)
        return issued

    issued = run_with_services(state(ctx).settings(), work)
    typer.echo(issued["token"])
