"""Settings and their loading: defaults, a TOML file, ``ASCIIHUB_*`` variables, flags.

One frozen :class:`Settings` is built once per process by :func:`load_settings` and
passed by hand to whatever needs it. Each source overrides the one before it. Every
field carries a description; ``docs/configuration.md`` lists them all (a test checks).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asciihub.errors import ConfigError

ENV_PREFIX = "ASCIIHUB_"


def _setting(default: Any, doc: str, **checks: Any) -> Any:
    """A dataclass field with a description and optional ``low``/``high``/``choices``."""
    return field(default=default, metadata={"doc": doc, **checks})


@dataclass(frozen=True)
class Settings:
    """Every knob of asciihub. Build with :func:`load_settings`."""

    # --- where things live -------------------------------------------------------
    data_dir: str = _setting("./data", "Directory for every embedded backend's files.")
    objects_url: str = _setting(
        "",
        "Object store (R2 role): `file:///path` or `s3://BUCKET`. "
        "Empty means `file://{data_dir}/objects`.",
    )
    kv_url: str = _setting(
        "",
        "KV store (cache, sessions): `sqlite:///path` or `redis://host:port/db`. "
        "Empty means `sqlite://{data_dir}/kv.sqlite3`.",
    )
    metadata_url: str = _setting(
        "",
        "Metadata database (D1 role): `sqlite:///path` or `postgresql://user@host/db`. "
        "Empty means `sqlite://{data_dir}/metadata.sqlite3`.",
    )
    queue_url: str = _setting(
        "",
        "Job queue: `sqlite:///path` or `redis://host:port/db`. "
        "Empty means `sqlite://{data_dir}/queue.sqlite3`.",
    )
    rooms_url: str = _setting(
        "",
        "Realtime rooms: `memory://` or `redis://host:port/db`. Empty means `memory://`.",
    )

    # --- HTTP server ---------------------------------------------------------------
    host: str = _setting("127.0.0.1", "Address `asciihub serve` listens on.")
    port: int = _setting(8000, "Port `asciihub serve` listens on.", low=0, high=65535)
    public_url: str = _setting(
        "",
        "The site's public base URL, used in share links. Empty means http://HOST:PORT.",
    )
    max_body_bytes: int = _setting(
        8 * 1024 * 1024, "Largest request body accepted, in bytes.", low=1024
    )
    auto_migrate: bool = _setting(
        True,
        "Apply database migrations when `asciihub serve` starts. On PostgreSQL, "
        "deployments usually turn this off and run `asciihub migrate` once.",
    )
    log_level: str = _setting(
        "info",
        "Log level.",
        choices=("debug", "info", "warning", "error"),
    )

    # --- artwork documents -------------------------------------------------------
    max_frames: int = _setting(1000, "Most frames one artwork may have.", low=1)
    max_width: int = _setting(500, "Widest frame, in character cells.", low=1)
    max_height: int = _setting(300, "Tallest frame, in lines.", low=1)
    max_document_chars: int = _setting(
        4_000_000, "Most character cells in one artwork, over all its frames.", low=1024
    )
    max_title_chars: int = _setting(200, "Longest title, in characters.", low=1)
    max_prompt_chars: int = _setting(2000, "Longest prompt, in characters.", low=1)
    max_tags: int = _setting(20, "Most tags on one artwork.", low=0)
    max_tag_chars: int = _setting(40, "Longest tag, in characters.", low=1)
    default_fps: float = _setting(10.0, "Frames per second when a document gives none.", low=0.1)

    # --- caching and the hot read path ---------------------------------------------
    artwork_cache_ttl: int = _setting(
        3600, "Seconds an artwork stays in the KV cache (`ascii:{id}`).", low=1
    )
    gallery_cache_ttl: int = _setting(
        15, "Seconds a gallery page stays in the KV cache.", low=1
    )
    gallery_page_size: int = _setting(24, "Gallery items per page by default.", low=1, high=100)
    gallery_max_page_size: int = _setting(100, "Largest `limit` a gallery request may ask for.", low=1)
    views_flush_seconds: float = _setting(
        5.0, "How often counted views are written to the database, in seconds.", low=0.05
    )

    # --- databases ---------------------------------------------------------------
    sqlite_synchronous: str = _setting(
        "full",
        "SQLite `synchronous` pragma for the metadata database.",
        choices=("full", "normal", "extra"),
    )
    db_pool_size: int = _setting(10, "Connections kept open per process (PostgreSQL).", low=1)
    db_max_overflow: int = _setting(10, "Extra connections allowed at peak (PostgreSQL).", low=0)
    db_pool_timeout: float = _setting(
        10.0, "Seconds to wait for a free connection before answering 503.", low=0.1
    )

    # --- job queue ---------------------------------------------------------------------
    queue_names: str = _setting(
        "generation",
        "Comma-separated queues the consumers read (names: a-z, 0-9, `_`, `-`).",
    )
    queue_max_batch_size: int = _setting(
        10, "Most messages handed to one handler call (Cloudflare max_batch_size).", low=1, high=100
    )
    queue_max_batch_timeout: float = _setting(
        5.0,
        "Seconds a consumer waits to fill a batch after its first message "
        "(Cloudflare max_batch_timeout).",
        low=0,
        high=60,
    )
    queue_max_retries: int = _setting(
        3,
        "Retries before a message goes to the dead-letter queue; it is delivered at most "
        "max_retries + 1 times.",
        low=0,
        high=100,
    )
    queue_retry_backoff: str = _setting(
        "exponential",
        "Default retry delay: `exponential` (base delay doubled per attempt, capped) or "
        "`fixed` (always the base delay). An explicit delay beats it.",
        choices=("exponential", "fixed"),
    )
    queue_retry_delay: float = _setting(2.0, "Base retry delay in seconds.", low=0, high=43200)
    queue_retry_max_delay: float = _setting(
        300.0, "Cap of the exponential retry delay, in seconds.", low=0, high=43200
    )
    queue_delivery_delay: float = _setting(
        0.0,
        "Default delay of a sent message, in seconds, when the sender gives none.",
        low=0,
        high=43200,
    )
    queue_visibility_timeout: float = _setting(
        30.0,
        "Lease length in seconds: a message held this long without a heartbeat (every "
        "lease/3) is redelivered to another consumer.",
        low=1,
        high=43200,
    )
    queue_concurrency: int = _setting(
        1, "Batches one consumer process handles at once, per queue.", low=1, high=250
    )
    queue_shutdown_grace: float = _setting(
        30.0,
        "Seconds running handlers get to finish on SIGTERM before their messages are "
        "released for redelivery.",
        low=0,
        high=3600,
    )
    queue_poll_interval: float = _setting(
        0.5, "Longest pause between polls of an empty queue, in seconds.", low=0.01, high=60
    )
    queue_sqlite_synchronous: str = _setting(
        "full",
        "SQLite `synchronous` pragma of the embedded queue (`full` survives power loss).",
        choices=("full", "normal", "extra"),
    )
    accept_queue_loss: bool = _setting(
        False,
        "Let the Redis queue start on a server without AOF (appendonly yes, appendfsync "
        "everysec or always), accepting that a Redis restart may lose queued jobs.",
    )

    @property
    def data_path(self) -> Path:
        """``data_dir`` as an absolute path."""
        return Path(self.data_dir).expanduser().resolve()

    def resolved_objects_url(self) -> str:
        """``objects_url`` with the embedded default filled in."""
        return self.objects_url or f"file://{self.data_path / 'objects'}"

    def resolved_kv_url(self) -> str:
        """``kv_url`` with the embedded default filled in."""
        return self.kv_url or f"sqlite://{self.data_path / 'kv.sqlite3'}"

    def resolved_metadata_url(self) -> str:
        """``metadata_url`` with the embedded default filled in."""
        return self.metadata_url or f"sqlite://{self.data_path / 'metadata.sqlite3'}"

    def resolved_queue_url(self) -> str:
        """``queue_url`` with the embedded default filled in."""
        return self.queue_url or f"sqlite://{self.data_path / 'queue.sqlite3'}"

    def resolved_rooms_url(self) -> str:
        """``rooms_url`` with the embedded default filled in."""
        return self.rooms_url or "memory://"

    def resolved_public_url(self) -> str:
        """The base URL links are built on."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def setting_fields() -> list[dataclasses.Field[Any]]:
    """Every field of :class:`Settings`, in declaration order."""
    return list(dataclasses.fields(Settings))


def _coerce(name: str, raw: Any, kind: type) -> Any:
    """Turn a TOML or environment value into the field's type, or raise ConfigError."""
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(str(raw).strip(), 10) if not isinstance(raw, int) else raw
        if kind is float:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        message = f"setting {name}: {raw!r} is not a valid {kind.__name__}"
        raise ConfigError(message) from None


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _check(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    low, high, choices = meta.get("low"), meta.get("high"), meta.get("choices")
    if low is not None and value < low:
        message = f"setting {name}: {value!r} is below the minimum {low}"
        raise ConfigError(message)
    if high is not None and value > high:
        message = f"setting {name}: {value!r} is above the maximum {high}"
        raise ConfigError(message)
    if choices is not None and value not in choices:
        message = f"setting {name}: {value!r} is not one of {', '.join(choices)}"
        raise ConfigError(message)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        message = f"config file {path} does not exist"
        raise ConfigError(message) from None
    except tomllib.TOMLDecodeError as exc:
        message = f"config file {path} is not valid TOML: {exc}"
        raise ConfigError(message) from None
    section = data.get("asciihub", data)
    if not isinstance(section, dict):
        message = f"config file {path}: [asciihub] must be a table"
        raise ConfigError(message)
    return section


def load_settings(
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, then TOML, then ``ASCIIHUB_*``, then ``overrides``.

    ``environ`` defaults to ``os.environ``; tests pass a dict. The TOML file is
    ``config_file`` or ``$ASCIIHUB_CONFIG``; its keys are the field names, at the top
    level or under an ``[asciihub]`` table. Unknown keys and bad values raise
    :class:`ConfigError` with one line naming the key.
    """
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in setting_fields()}
    values: dict[str, Any] = {}

    path = config_file or env.get(f"{ENV_PREFIX}CONFIG")
    if path:
        for key, raw in _read_toml(Path(path)).items():
            if key not in fields:
                message = f"config file {path}: unknown setting {key!r}"
                raise ConfigError(message)
            values[key] = raw
    for name in fields:
        env_name = f"{ENV_PREFIX}{name.upper()}"
        if env_name in env:
            values[name] = env[env_name]
    for key, raw in (overrides or {}).items():
        if key not in fields:
            message = f"unknown setting {key!r}"
            raise ConfigError(message)
        if raw is not None:
            values[key] = raw

    final: dict[str, Any] = {}
    for name, raw in values.items():
        spec = fields[name]
        kind = _TYPES[spec.type if isinstance(spec.type, str) else spec.type.__name__]
        value = _coerce(name, raw, kind)
        _check(name, value, spec.metadata)
        final[name] = value
    return Settings(**final)
