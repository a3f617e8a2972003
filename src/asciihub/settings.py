"""Settings and their loading: defaults, a TOML file, ``ASCIIHUB_*`` variables, flags.

One frozen :class:`Settings` is built once per process by :func:`load_settings` and
passed by hand to whatever needs it. Each source overrides the one before it. Every
field carries a description; ``docs/configuration.md`` lists them all (a test checks).
"""

from __future__ import annotations

import dataclasses
import os
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
        "Realtime rooms (WebSockets): `sqlite:///path` (one process; the log and snapshots "
        "are durable in the file), `memory://` (one process, nothing kept: tests) or "
        "`redis://host:port/db` (any number of API processes; keys prefixed by "
        "kv_namespace). Empty means `sqlite://{data_dir}/rooms.sqlite3`.",
    )

    # --- object store and KV backends ----------------------------------------------
    objects_signing_secret: str = _setting(
        "",
        "Secret that signs download links of the `file://` object store. Empty means a "
        "random key kept in the object directory (`.asciihub-store/signing.key`), shared "
        "by its processes.",
    )
    objects_s3_create_bucket: bool = _setting(
        False,
        "Create the `s3://` bucket at start-up when it does not exist (MinIO, tests).",
    )
    objects_s3_part_size: int = _setting(
        8 * 1024 * 1024,
        "Part size of multipart uploads to `s3://`, in bytes (S3 needs at least 5 MiB).",
        low=5 * 1024 * 1024,
    )
    kv_namespace: str = _setting(
        "asciihub",
        "Prefix of every Redis key the `redis://` KV store writes, so that several "
        "deployments (or tests) can share one Redis. A `?namespace=` in kv_url wins.",
    )

    # --- HTTP server ---------------------------------------------------------------
    host: str = _setting("127.0.0.1", "Address `asciihub serve` listens on.")
    port: int = _setting(8000, "Port `asciihub serve` listens on.", low=0, high=65535)
    public_url: str = _setting(
        "",
        "The site's public base URL, used in share, e-mail and download links. "
        "Empty means http://HOST:PORT (the bound port under --port 0).",
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

    # --- the ASCII engine ----------------------------------------------------------
    engine_cell_aspect: float = _setting(
        0.5, "Terminal cell width over height, used to keep images' proportions.", low=0.1, high=2.0
    )
    engine_max_image_pixels: int = _setting(
        64_000_000,
        "Most pixels an uploaded image may have (checked on the header, before decoding).",
        low=1,
    )
    engine_max_video_seconds: float = _setting(
        600.0, "Longest video `convert` accepts, in seconds.", low=0.1
    )
    engine_max_video_pixels: int = _setting(
        3840 * 2160, "Most pixels per video frame `convert` accepts.", low=1
    )

    # --- AI provider (OpenAI-compatible chat completions) ---------------------------
    ai_url: str = _setting(
        "",
        "Base URL of an OpenAI-compatible API (e.g. `https://api.openai.com/v1`, "
        "`http://localhost:11434/v1` for Ollama). Empty means the procedural generator only.",
    )
    ai_model: str = _setting("", "Model name sent to the AI provider.")
    ai_api_key: str = _setting("", "Bearer key for the AI provider; empty sends none.")
    ai_timeout: float = _setting(
        60.0, "Seconds to wait for the AI provider before giving up.", low=1.0
    )

    # --- caching and the hot read path ---------------------------------------------
    artwork_cache_ttl: int = _setting(
        3600, "Seconds an artwork stays in the KV cache (`ascii:{id}`).", low=1
    )
    gallery_cache_ttl: int = _setting(15, "Seconds a gallery page stays in the KV cache.", low=1)
    gallery_page_size: int = _setting(24, "Gallery items per page by default.", low=1, high=100)
    gallery_max_page_size: int = _setting(
        100, "Largest `limit` a gallery request may ask for.", low=1
    )
    housekeeping_seconds: float = _setting(
        3600.0,
        "How often `serve` sweeps stale temporary files and purges expired KV keys, in seconds.",
        low=1.0,
    )
    views_flush_seconds: float = _setting(
        5.0, "How often counted views are written to the database, in seconds.", low=0.05
    )
    views_window_seconds: int = _setting(
        1800,
        "A viewer (account, else client address) counts one view per artwork per this many "
        "seconds.",
        low=1,
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
        "generation,conversion,exports,imports,thumbnails,analytics,email",
        "Comma-separated queues the consumers read (names: a-z, 0-9, `_`, `-`); "
        "`asciihub worker --queues` narrows it per process.",
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
    worker_memory_limit_mb: int = _setting(
        0,
        "Address-space limit (RLIMIT_AS) of an `asciihub worker` process, in MiB; 0 for "
        "none. A job that runs out of it ends its worker (exit code 70) so its message is "
        "redelivered and, after queue_max_retries, dead-lettered as `worker_lost`.",
        low=0,
        high=1_048_576,
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

    # --- background jobs, analytics and e-mail ------------------------------------
    run_consumers_in_serve: str = _setting(
        "auto",
        "Run the queue consumers inside `asciihub serve`: `on`, `off`, or `auto` (on when "
        "the queue is the embedded SQLite one, off for Redis, where `asciihub worker` runs them).",
        choices=("auto", "on", "off"),
    )
    jobs_requeue_after: float = _setting(
        600.0,
        "Seconds a job may sit `queued` or `running` without any progress before the sweeper "
        "publishes its message again (so a lost queue message never loses a job).",
        low=1,
    )
    jobs_outage_patience: float = _setting(
        900.0,
        "Seconds from its submission a job keeps waiting out a dependency outage: a job "
        "whose deliveries all met PostgreSQL, Redis or the object store down is published "
        "again by the sweeper until it is this old, then fails with code `unavailable`.",
        low=0,
    )
    jobs_sweep_interval: float = _setting(
        30.0,
        "Seconds between two runs of the jobs sweeper (re-publish, dead letters, expiry).",
        low=0.05,
    )
    jobs_progress_interval: float = _setting(
        0.25, "Least seconds between two progress writes of one running job.", low=0
    )
    jobs_max_frames: int = _setting(240, "Most frames one generation job may ask for.", low=1)
    upload_max_bytes: int = _setting(
        50 * 1024 * 1024, "Largest upload `POST /api/convert` accepts, in bytes.", low=1024
    )
    export_max_frames: int = _setting(
        600,
        "Most frames of an artwork exported in a format that holds every frame drawn or "
        "marked up (apng, gif, mp4, webm, svg, html, zip).",
        low=1,
    )
    export_max_pixels: int = _setting(
        3840 * 2160,
        "Most pixels of one drawn frame of a png, apng, gif, mp4, webm or zip export "
        "(columns x rows of character cells at export_font_size).",
        low=64,
    )
    export_font_size: int = _setting(
        16, "Font size, in pixels, of the drawn, SVG and HTML exports.", low=6, high=96
    )
    export_presigned_downloads: bool = _setting(
        False,
        "Answer `GET /api/exports/{id}/download` with a redirect (302) to a presigned URL "
        "of the object store, valid for 15 minutes (S3, R2, or the file backend's signed "
        "`/objects/{key}` path, served by this server); off: the API sends the bytes itself.",
    )
    export_spool_bytes: int = _setting(
        8 * 1024 * 1024,
        "Bytes of an export file (or export-all archive) kept in memory while it is made; "
        "past that it spills to a temporary file, then streams to the object store.",
        low=0,
    )
    export_all_ttl: int = _setting(
        7 * 24 * 3600,
        "Seconds an export-all archive (`POST /api/me/export-all`) stays downloadable; "
        "after that the download answers 404 `export_expired` and the archive is deleted.",
        low=60,
    )
    import_max_bytes: int = _setting(
        20 * 1024 * 1024,
        "Largest file `POST /api/import` and `asciihub import` accept, in bytes.",
        low=1024,
    )
    import_max_entries: int = _setting(
        1000, "Most entries (files and folders) a ZIP archive to import may hold.", low=1
    )
    import_max_unpacked_bytes: int = _setting(
        200 * 1024 * 1024,
        "Most bytes the entries of a ZIP archive to import may unpack to, in all "
        "(declared sizes checked first, real bytes counted while reading).",
        low=1024,
    )
    import_max_ratio: int = _setting(
        100,
        "Highest unpacked/packed size ratio of one ZIP entry above 1 MiB; a higher one "
        "is refused as a zip bomb.",
        low=2,
    )
    import_idle_time_limit: float = _setting(
        3.0,
        "Longest pause, in seconds, an imported asciicast recording keeps (longer ones "
        "are shortened to it; a recording's own `idle_time_limit` may make it shorter).",
        low=0.01,
    )
    idempotency_ttl: int = _setting(
        86400,
        "Seconds an `Idempotency-Key` of `POST /api/artworks` is remembered with its answer.",
        low=60,
    )
    analytics_retention_days: int = _setting(
        90, "Days analytics data points are kept (Analytics Engine keeps three months).", low=1
    )
    analytics_flush_seconds: float = _setting(
        5.0,
        "How often buffered data points (API calls, views) are sent to the analytics queue.",
        low=0.05,
    )
    analytics_max_point_bytes: int = _setting(
        16 * 1024, "Largest data point (blobs, doubles and index together), in bytes.", low=256
    )
    analytics_max_points: int = _setting(
        250, "Most data points in one analytics queue message.", low=1, high=1000
    )
    smtp_url: str = _setting(
        "",
        "SMTP server for e-mail: `smtp://[user:password@]host[:port]` (STARTTLS when offered) "
        "or `smtps://...` (TLS). Empty means `.eml` files in `{data_dir}/outbox/`.",
    )
    smtp_from: str = _setting(
        "asciihub <noreply@localhost>", "The From address of every e-mail asciihub sends."
    )
    smtp_timeout: float = _setting(30.0, "Seconds to wait for the SMTP server.", low=1)

    # --- accounts, sessions and credentials ---------------------------------------
    password_min_length: int = _setting(
        10, "Shortest password accepted at signup and password change, in characters.", low=8
    )
    password_max_length: int = _setting(
        256,
        "Longest password accepted, in characters (longer ones are refused).",
        low=64,
        high=4096,
    )
    argon2_time_cost: int = _setting(
        2, "Argon2id iterations of the password hash (OWASP floor: 2 with 19 MiB).", low=1
    )
    argon2_memory_kib: int = _setting(
        19456, "Argon2id memory of the password hash, in KiB (OWASP floor: 19456).", low=8
    )
    argon2_parallelism: int = _setting(1, "Argon2id lanes of the password hash.", low=1, high=16)
    password_hash_concurrency: int = _setting(
        2,
        "Password hashes or verifications running at once per process (each holds "
        "argon2_memory_kib); the rest wait, so a login flood cannot exhaust CPU or memory.",
        low=1,
    )
    session_ttl: int = _setting(
        86400,
        "Seconds a session lives without use; each use renews it (`session:{id}` in KV).",
        low=60,
    )
    session_max_age: int = _setting(
        30 * 86400,
        "Absolute cap on a session's life in seconds, however often it is used; then log in again.",
        low=60,
    )
    session_cookie_secure: str = _setting(
        "auto",
        "Mark the session cookie Secure and name it `__Host-asciihub_session`: `always`, "
        "`never`, or `auto` (when public_url or the request is https).",
        choices=("auto", "always", "never"),
    )
    csrf_trusted_origins: str = _setting(
        "",
        "Comma-separated extra origins (scheme://host[:port]) allowed to send "
        "cookie-authenticated unsafe requests, besides the site itself and public_url.",
    )
    share_max_expiry: int = _setting(
        90 * 86400,
        "Longest life of a share link, in seconds (`expires_in` above it is refused).",
        low=60,
    )
    share_default_expiry: int = _setting(
        7 * 86400,
        "Life of a share link when the request gives no `expires_in`, in seconds.",
        low=60,
    )
    avatar_max_bytes: int = _setting(2 * 1024 * 1024, "Largest avatar upload, in bytes.", low=1024)
    avatar_max_pixels: int = _setting(
        4096 * 4096, "Most pixels an avatar image may declare (checked before decoding).", low=64
    )
    avatar_size: int = _setting(
        256, "Width and height of the stored avatar PNG, in pixels.", low=16, high=1024
    )

    # --- realtime rooms (WebSockets) -------------------------------------------------
    room_max_message_bytes: int = _setting(
        1024 * 1024,
        "Largest WebSocket message a client may send, in bytes; a larger one closes the "
        "socket with 1009.",
        low=1024,
    )
    room_rate_per_second: float = _setting(
        50.0, "Messages per second one socket may send on average (token bucket).", low=0.1
    )
    room_rate_burst: int = _setting(
        200, "Messages one socket may send at once above its rate; more closes with 4429.", low=1
    )
    room_max_connections: int = _setting(
        5000,
        "Most sockets one artwork room may hold on one API process; more are refused "
        "with 1013 (try again later).",
        low=1,
    )
    room_send_queue: int = _setting(
        512,
        "Messages waiting to be sent to one socket; a slower reader is closed with 4000 "
        "and resyncs on reconnect, so memory stays bounded.",
        low=8,
    )
    room_ping_interval: float = _setting(
        20.0, "Seconds between WebSocket pings the server sends.", low=0.1
    )
    room_ping_timeout: float = _setting(
        20.0, "Seconds without an answer to a ping before a socket is dropped.", low=0.1
    )
    room_presence_ttl: float = _setting(
        30.0,
        "Seconds a socket counts as present without a heartbeat (renewed every third of "
        "it), so dead sockets of any process drop out of the viewer count.",
        low=1,
    )
    room_presence_debounce: float = _setting(
        0.25, "Least seconds between two viewer-count broadcasts of one room.", low=0
    )
    room_cursor_interval: float = _setting(
        0.033, "Least seconds between two cursor messages of one socket (more are dropped).", low=0
    )
    room_save_debounce: float = _setting(
        2.0,
        "Seconds of quiet after an edit before the room writes a new version of the "
        "artwork document (also written when the last editor leaves).",
        low=0.05,
    )
    room_snapshot_every: int = _setting(
        500,
        "Log entries between two room snapshots; a snapshot drops the entries it covers.",
        low=1,
    )
    room_max_cells_per_op: int = _setting(
        20_000, "Most cells one editing op (a stroke) may change.", low=1
    )
    room_chat_max_chars: int = _setting(
        2000, "Longest chat message in an artwork room, in characters.", low=1
    )
    room_chat_image_max_bytes: int = _setting(
        5 * 1024 * 1024,
        "Largest image attached to room chat, in bytes (PNG, JPEG, GIF or WebP, told by "
        "its content); a larger one is refused with 413.",
        low=1024,
    )
    room_chat_image_max_pixels: int = _setting(
        4096 * 4096,
        "Most pixels (width times height) a chat image may declare; checked before decoding.",
        low=64,
    )
    room_job_ttl: int = _setting(
        3600, "Seconds a finished job's event log is kept for late `/ws/jobs` watchers.", low=60
    )

    # --- rate limits (sliding window counters in KV) -----------------------------------
    rate_limits_enabled: bool = _setting(
        True, "Enforce the rate limits below (429 with Retry-After when exceeded)."
    )
    rate_limit_window: int = _setting(
        60, "Window of the read, write and expensive classes, in seconds.", low=1
    )
    rate_limit_read: int = _setting(
        600, "Reads (GET) per window per user, token or anonymous IP.", low=1
    )
    rate_limit_write: int = _setting(
        120, "Writes (POST, PATCH, DELETE) per window per user, token or anonymous IP.", low=1
    )
    rate_limit_expensive: int = _setting(
        10, "Generation, conversion and export requests per window per user, token or IP.", low=1
    )
    rate_limit_login_window: int = _setting(
        900, "Window of the login and signup limits, in seconds.", low=1
    )
    rate_limit_login_per_handle: int = _setting(
        10, "Failed logins per handle per login window.", low=1
    )
    rate_limit_login_per_ip: int = _setting(
        50, "Failed logins per client IP per login window.", low=1
    )
    rate_limit_signup_per_ip: int = _setting(20, "Signups per client IP per login window.", low=1)
    rate_limit_invalid_token: int = _setting(
        30,
        "Requests with an unknown or revoked Bearer token per client IP per window; "
        "then 429 instead of 401.",
        low=1,
    )
    max_tokens_per_user: int = _setting(
        50, "Live API tokens one user may hold; revoke one to create another.", low=1
    )

    # --- the HTTP server (asciihub serve, also with --workers) -------------------------
    forwarded_allow_ips: str = _setting(
        "",
        "Comma-separated proxy addresses (IPs or CIDR networks, or `*`) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed. Empty trusts nobody: the "
        "client address is the TCP peer. See docs/operations.md (reverse proxy).",
    )
    http_parser: str = _setting(
        "auto",
        "HTTP/1.1 parser of `asciihub serve`: `httptools` (fast, when installed), `h11` "
        "(pure Python), or `auto` (httptools when installed). Both get the limits below.",
        choices=("auto", "httptools", "h11"),
    )
    http_header_timeout: float = _setting(
        10.0,
        "Seconds a client has to send a request's line and headers, from its first byte "
        "(or from the connection when it sends nothing); then the socket is closed.",
        low=0.1,
    )
    http_body_timeout: float = _setting(
        60.0,
        "Seconds a client has to send a whole request body once its headers are in; "
        "then the socket is closed.",
        low=0.1,
    )
    http_idle_timeout: float = _setting(
        5.0, "Seconds a kept-alive connection may sit idle between requests.", low=0.1
    )
    http_max_header_bytes: int = _setting(
        65536,
        "Largest request line plus headers, in bytes; a larger one is refused (431) and "
        "the socket closed.",
        low=1024,
    )
    http_discard_max_bytes: int = _setting(
        32 * 1024 * 1024,
        "Bytes of a refused body (413 and other early errors) read and thrown away before "
        "the error is sent, so clients that cannot read early answers still see it; a "
        "larger rest is cut off.",
        low=0,
    )
    http_discard_seconds: float = _setting(
        5.0, "Seconds spent at most reading and discarding an oversized body.", low=0
    )
    metrics_token: str = _setting(
        "",
        "Scrape token for `GET /metrics` (send `Authorization: Bearer TOKEN`). "
        "Empty means no token is accepted; then only metrics_allow may scrape.",
    )
    metrics_allow: str = _setting(
        "127.0.0.1,::1",
        "Comma-separated client addresses or CIDR networks that may read `/metrics` "
        "without the token. Empty allows none.",
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

    def consumers_in_serve(self) -> bool:
        """Whether `asciihub serve` runs the queue consumers (``run_consumers_in_serve``)."""
        if self.run_consumers_in_serve != "auto":
            return self.run_consumers_in_serve == "on"
        return self.resolved_queue_url().startswith("sqlite:")

    def resolved_rooms_url(self) -> str:
        """``rooms_url`` with the embedded default filled in."""
        return self.rooms_url or f"sqlite://{self.data_path / 'rooms.sqlite3'}"

    def resolved_public_url(self) -> str:
        """The base URL links are built on: ``public_url``, else the listening address.

        Never the request's ``Host`` header (nothing checks it against a list, so it is
        the client's to choose). ``asciihub serve --port 0`` binds first and passes the
        bound port here.
        """
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


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
    import tomllib  # only a process given a config file pays for the parser

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


def settings_table() -> str:
    """Every setting as a Markdown table (docs/configuration.md embeds it)."""
    rows = ["| setting | environment variable | default | description |", "|---|---|---|---|"]
    for spec in setting_fields():
        default = spec.default
        shown = (
            "(empty)"
            if default == ""
            else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        )
        doc = str(spec.metadata.get("doc", "")).replace("|", "\\|")
        rows.append(f"| `{spec.name}` | `{ENV_PREFIX}{spec.name.upper()}` | {shown} | {doc} |")
    return "\n".join(rows) + "\n"
