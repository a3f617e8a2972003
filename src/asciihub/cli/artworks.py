"""``asciihub artworks``: list, show, create and delete artworks on the local data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from asciihub.cli._runtime import run_with_services
from asciihub.cli.app import app, state
from asciihub.errors import InvalidInput

artworks_app = typer.Typer(
    help="Work with stored artworks (as the local user).", no_args_is_help=True
)
app.add_typer(artworks_app, name="artworks")


@artworks_app.command("list")
def list_artworks(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many to show.")] = 24,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Full-text search.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the local user's artworks, newest first."""
    from asciihub.services.gallery import PageQuery
    from asciihub.services.principals import LOCAL

    async def work(built: Any) -> dict[str, Any]:
        page = PageQuery(limit=limit, query=query)
        result: dict[str, Any] = await built.gallery.user_page(LOCAL, "local", page)
        return result

    page = run_with_services(state(ctx).settings(), work)
    if as_json:
        typer.echo(json.dumps(page["items"], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("id", no_wrap=True, min_width=22)
    for name in ("title", "visibility", "frames", "size", "views", "created"):
        table.add_column(name, overflow="fold")
    for item in page["items"]:
        table.add_row(
            item["id"],
            item["title"] or "",
            item["visibility"],
            str(item["frame_count"]),
            f"{item['width']}x{item['height']}",
            str(item["views"]),
            item["created_at"][:10],
        )
    Console().print(table)


@artworks_app.command("show")
def show_artwork(
    ctx: typer.Context,
    artwork_id: Annotated[str, typer.Argument(help="The artwork's id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole artwork as JSON.")
    ] = False,
) -> None:
    """Print an artwork's first frame (or all of it as JSON)."""
    from asciihub.services.principals import LOCAL

    async def work(built: Any) -> bytes:
        entry = await built.artworks.get(LOCAL, artwork_id)
        body: bytes = entry.body
        return body

    body = run_with_services(state(ctx).settings(), work)
    data = json.loads(body)
    typer.echo(json.dumps(data, indent=2) if as_json else data["frames"][0]["text"])


def _payload(path: Path, separator: str | None) -> dict[str, Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message = f"{path} does not exist"
        raise InvalidInput(message, code="file_not_found") from None
    except UnicodeDecodeError:
        message = f"{path} is not UTF-8 text"
        raise InvalidInput(message, code="not_utf8") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            message = f"{path} is not valid JSON: {exc}"
            raise InvalidInput(message, code="invalid_json") from None
        if isinstance(data, dict) and data.get("format") == "asciihub.artwork":
            return {k: data[k] for k in ("frames", "fps", "width", "height") if k in data}
        if not isinstance(data, dict):
            message = f"{path} must hold a JSON object"
            raise InvalidInput(message, code="invalid_json")
        return data
    texts = raw.split(f"\n{separator}\n") if separator else [raw]
    return {"frames": [{"text": text} for text in texts]}


@artworks_app.command("create")
def create_artwork(
    ctx: typer.Context,
    from_file: Annotated[
        Path, typer.Option("--from-file", help="A text file, or an artwork JSON.")
    ],
    title: Annotated[str | None, typer.Option(help="Title.")] = None,
    visibility: Annotated[str, typer.Option(help="private, unlisted or public.")] = "private",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    frame_separator: Annotated[
        str | None, typer.Option(help="In a text file, a line that separates frames.")
    ] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second.")] = None,
) -> None:
    """Create an artwork from a file; prints its id."""
    from asciihub.services.principals import LOCAL

    payload = _payload(from_file, frame_separator)
    payload.setdefault("visibility", visibility)
    if title is not None:
        payload["title"] = title
    if tag:
        payload["tags"] = tag
    if fps is not None:
        payload["fps"] = fps

    async def work(built: Any) -> dict[str, Any]:
        created: dict[str, Any] = await built.artworks.create(LOCAL, payload)
        return created

    created = run_with_services(state(ctx).settings(), work)
    typer.echo(created["id"])


@artworks_app.command("delete")
def delete_artwork(
    ctx: typer.Context,
    artwork_id: Annotated[str, typer.Argument(help="The artwork's id.")],
) -> None:
    """Delete an artwork."""
    from asciihub.services.principals import LOCAL

    async def work(built: Any) -> None:
        await built.artworks.delete(LOCAL, artwork_id)

    run_with_services(state(ctx).settings(), work)
    typer.echo(f"deleted {artwork_id}")
