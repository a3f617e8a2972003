"""The only place that turns Settings into backends and services.

Adapters (API, web pages, worker, CLI) call :func:`build_services` once at start and
:meth:`Services.close` at shutdown; they never construct a backend themselves.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asciihub.engine.decode import EngineLimits
from asciihub.engine.document import DocumentLimits
from asciihub.engine.procedural import FrameGenerator, GenerateLimits, ProceduralGenerator
from asciihub.errors import ConfigError
from asciihub.queue import JobQueue, open_job_queue
from asciihub.realtime import RoomHub, open_room_hub
from asciihub.services.accounts import AccountService, LoginLimits
from asciihub.services.analytics import AnalyticsService
from asciihub.services.artwork_input import InputLimits
from asciihub.services.artworks import ArtworkService
from asciihub.services.datamigration import Endpoint
from asciihub.services.downloads import DownloadService
from asciihub.services.export_all import ExportAllService
from asciihub.services.exports import ExportLimits, ExportService
from asciihub.services.gallery import GalleryCache, GalleryService
from asciihub.services.idempotency import IdempotencyService
from asciihub.services.images import ImageService
from asciihub.services.imports import ImportLimits, ImportService
from asciihub.services.job_runs import JobRunner, RunLimits
from asciihub.services.job_stream import JobEvents
from asciihub.services.jobs import JobLimits, JobService
from asciihub.services.mailer import open_mailer
from asciihub.services.notifications import NotificationService
from asciihub.services.passwords import PasswordHashing, PasswordRules
from asciihub.services.preferences import AvatarLimits, PreferenceService
from asciihub.services.ratelimit import Limit, RateLimiter
from asciihub.services.rooms import RoomService, build_room_service
from asciihub.services.sessions import SessionStore
from asciihub.services.shares import ShareService
from asciihub.services.tokens import TokenService
from asciihub.services.views import ViewCounter
from asciihub.settings import Settings
from asciihub.storage.kv import open_kv_store
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata import (
    Database,
    DatabaseOptions,
    SqlArtworkRepository,
    SqlUserRepository,
    current_revision,
    head_revision,
    upgrade,
)
from asciihub.storage.metadata.accounts import SqlAccountRepository
from asciihub.storage.metadata.analytics import SqlAnalyticsRepository
from asciihub.storage.metadata.exports import SqlExportRepository
from asciihub.storage.metadata.jobs import SqlIdempotencyRepository, SqlJobRepository
from asciihub.storage.metadata.tokens import SqlShareRepository, SqlTokenRepository
from asciihub.storage.objects import open_object_store
from asciihub.storage.objects.protocol import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class AuthServices:
    """Accounts, sessions, tokens, share links, preferences and rate limits."""

    accounts: AccountService
    sessions: SessionStore
    tokens: TokenService
    shares: ShareService
    preferences: PreferenceService
    limiter: RateLimiter
    hashing: PasswordHashing
    read: Limit
    write: Limit
    expensive: Limit
    invalid_token: Limit


@dataclass
class Services:
    """Everything an adapter needs, built from one Settings."""

    settings: Settings
    db: Database
    objects: ObjectStore
    kv: KVStore
    artworks_repo: SqlArtworkRepository
    users_repo: SqlUserRepository
    artworks: ArtworkService
    gallery: GalleryService
    images: ImageService
    views: ViewCounter
    downloads: DownloadService
    auth: AuthServices
    background: BackgroundServices
    rooms: RoomHub
    live_rooms: RoomService

    async def housekeeping(self) -> dict[str, int]:
        """Backend upkeep that has no request to ride on: stale temp files, expired keys."""
        return {
            "objects_swept": await self.objects.sweep(),
            "kv_purged": await self.kv.purge_expired(),
            "rooms_purged": await self.rooms.purge_expired(),
        }

    def probes(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """One ``ping`` per binding, by name, for ``/healthz``."""
        return {
            "metadata": self.db.ping,
            "kv": self.kv.ping,
            "objects": self.objects.ping,
            "queue": self.background.queue.ping,
            "rooms": self.rooms.ping,
        }

    async def close(self) -> None:
        """Flush counted views and release every connection."""
        try:
            await self.views.flush()
            await self.background.analytics.flush()
        except Exception:  # shutting down: report, then release the rest
            log.exception("event=views_flush_failed")
        await self.live_rooms.close()
        await self.background.queue.close()
        await self.rooms.close()
        await self.kv.close()
        await self.objects.close()
        await self.db.close()


def input_limits(settings: Settings) -> InputLimits:
    """The request caps from Settings."""
    return InputLimits(
        document=DocumentLimits(
            max_frames=settings.max_frames,
            max_width=settings.max_width,
            max_height=settings.max_height,
            max_chars=settings.max_document_chars,
        ),
        max_title_chars=settings.max_title_chars,
        max_prompt_chars=settings.max_prompt_chars,
        max_tags=settings.max_tags,
        max_tag_chars=settings.max_tag_chars,
        default_fps=settings.default_fps,
    )


def open_database(settings: Settings) -> Database:
    """The metadata database named by Settings (not yet connected)."""
    options = DatabaseOptions(
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    return Database(settings.resolved_metadata_url(), options)


async def migrate(settings: Settings) -> tuple[str | None, str]:
    """Apply migrations; (revision before, revision after)."""
    db = open_database(settings)
    try:
        before = await current_revision(db)
        await upgrade(db)
        return before, head_revision()
    finally:
        await db.close()


async def open_objects(settings: Settings) -> ObjectStore:
    """The object store named by Settings."""
    return await open_object_store(
        settings.resolved_objects_url(),
        signing_secret=settings.objects_signing_secret or None,
        create_bucket=settings.objects_s3_create_bucket,
        part_size=settings.objects_s3_part_size,
    )


async def open_kv(settings: Settings) -> KVStore:
    """The KV store named by Settings."""
    return await open_kv_store(settings.resolved_kv_url(), namespace=settings.kv_namespace)


async def open_rooms(settings: Settings) -> RoomHub:
    """The realtime room hub named by Settings."""
    return await open_room_hub(settings.resolved_rooms_url(), namespace=settings.kv_namespace)


async def open_endpoint(settings: Settings) -> Endpoint:
    """The bindings alone (schema migrated), for whole-deployment copies."""
    db = open_database(settings)
    await upgrade(db)
    objects = await open_objects(settings)
    kv = await open_kv(settings)
    return Endpoint(db=db, objects=objects, kv=kv)


async def close_endpoint(endpoint: Endpoint) -> None:
    """Release an endpoint's connections."""
    await endpoint.kv.close()
    await endpoint.objects.close()
    await endpoint.db.close()


def build_auth(
    settings: Settings,
    *,
    db: Database,
    kv: KVStore,
    objects: ObjectStore,
    artworks: ArtworkService,
    artworks_repo: SqlArtworkRepository,
) -> AuthServices:
    """The account services on top of the bindings."""
    accounts_repo = SqlAccountRepository(db)
    sessions = SessionStore(kv, ttl=settings.session_ttl, max_age=settings.session_max_age)
    hashing = PasswordHashing(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        concurrency=settings.password_hash_concurrency,
    )
    limiter = RateLimiter(kv, enabled=settings.rate_limits_enabled)
    login_window = settings.rate_limit_login_window
    window = settings.rate_limit_window
    accounts = AccountService(
        accounts=accounts_repo,
        artworks_repo=artworks_repo,
        artworks=artworks,
        objects=objects,
        sessions=sessions,
        hashing=hashing,
        rules=PasswordRules(settings.password_min_length, settings.password_max_length),
        limiter=limiter,
        limits=LoginLimits(
            per_handle=Limit("login-handle", settings.rate_limit_login_per_handle, login_window),
            per_ip=Limit("login-ip", settings.rate_limit_login_per_ip, login_window),
            signup_per_ip=Limit("signup-ip", settings.rate_limit_signup_per_ip, login_window),
        ),
    )
    shares = ShareService(
        SqlShareRepository(db),
        artworks,
        public_url=settings.resolved_public_url(),
        default_expiry=settings.share_default_expiry,
        max_expiry=settings.share_max_expiry,
    )
    preferences = PreferenceService(
        accounts=accounts_repo,
        objects=objects,
        avatar_limits=AvatarLimits(
            settings.avatar_max_bytes, settings.avatar_max_pixels, settings.avatar_size
        ),
        max_width=settings.max_width,
    )
    return AuthServices(
        accounts=accounts,
        sessions=sessions,
        tokens=TokenService(SqlTokenRepository(db), max_per_user=settings.max_tokens_per_user),
        shares=shares,
        preferences=preferences,
        limiter=limiter,
        hashing=hashing,
        read=Limit("read", settings.rate_limit_read, window),
        write=Limit("write", settings.rate_limit_write, window),
        expensive=Limit("expensive", settings.rate_limit_expensive, window),
        invalid_token=Limit("invalid-token", settings.rate_limit_invalid_token, window),
    )


# The extra that installs each optional driver (pyproject.toml's optional-dependencies).
OPTIONAL_DRIVERS = {
    "asyncpg": ("postgres", "a postgresql:// metadata_url"),
    "redis": ("redis", "a redis:// kv_url, queue_url or rooms_url"),
    "hiredis": ("redis", "a redis:// kv_url, queue_url or rooms_url"),
    "aiobotocore": ("s3", "an s3:// objects_url"),
    "botocore": ("s3", "an s3:// objects_url"),
    "av": ("video", "video conversion"),
}


def missing_driver(exc: ModuleNotFoundError) -> ConfigError | None:
    """The one-line start-up error for an optional driver that is not installed."""
    top = (exc.name or "").split(".")[0]
    if top not in OPTIONAL_DRIVERS:
        return None
    extra, needed_by = OPTIONAL_DRIVERS[top]
    message = (
        f"{needed_by} needs the Python package {top!r}, which is not installed: "
        f"run pip install 'asciihub[{extra}]' (or change the setting)"
    )
    return ConfigError(message, code="missing_dependency")


async def build_services(settings: Settings, *, apply_migrations: bool | None = None) -> Services:
    """Open every binding named by Settings and wire the services on top.

    When a binding cannot start, those already open are closed again and a missing
    optional driver becomes one ConfigError naming the extra to install.
    """
    try:
        async with contextlib.AsyncExitStack() as opened:
            built = await _build_services(settings, opened, apply_migrations)
            opened.pop_all()
            return built
    except ModuleNotFoundError as exc:
        translated = missing_driver(exc)
        if translated is None:
            raise
        raise translated from exc


async def _build_services(
    settings: Settings, opened: contextlib.AsyncExitStack, apply_migrations: bool | None
) -> Services:
    settings.data_path.mkdir(parents=True, exist_ok=True)
    db = open_database(settings)
    opened.push_async_callback(db.close)
    should_migrate = settings.auto_migrate if apply_migrations is None else apply_migrations
    if should_migrate:
        await upgrade(db)
    elif await current_revision(db) != head_revision():
        message = "the metadata database is not at the current schema; run `asciihub migrate`"
        from asciihub.errors import Unavailable

        raise Unavailable(message, code="schema_out_of_date")
    objects = await open_objects(settings)
    opened.push_async_callback(objects.close)
    kv = await open_kv(settings)
    opened.push_async_callback(kv.close)
    artworks_repo = SqlArtworkRepository(db)
    users_repo = SqlUserRepository(db)
    gallery_cache = GalleryCache(kv, settings.gallery_cache_ttl)
    artworks = ArtworkService(
        artworks=artworks_repo,
        objects=objects,
        cache=kv,
        gallery=gallery_cache,
        limits=input_limits(settings),
        cache_ttl=settings.artwork_cache_ttl,
    )
    gallery = GalleryService(artworks=artworks_repo, users=users_repo, cache=gallery_cache)
    views = ViewCounter(artworks_repo, kv=kv, window=settings.views_window_seconds)
    views.on_written = artworks.refresh_views
    background = await build_background(
        settings,
        db=db,
        objects=objects,
        artworks=artworks,
        users_repo=users_repo,
        views=views,
        kv=kv,
    )
    auth = build_auth(
        settings, db=db, kv=kv, objects=objects, artworks=artworks, artworks_repo=artworks_repo
    )
    auth.shares.notify = background.notifications.share_sent
    background.export_all = build_export_all(
        settings,
        artworks=artworks,
        artworks_repo=artworks_repo,
        objects=objects,
        background=background,
        auth=auth,
        db=db,
    )
    rooms = await open_rooms(settings)
    opened.push_async_callback(rooms.close)
    background.jobs.events = JobEvents(rooms, ttl=settings.room_job_ttl)
    live_rooms = build_room_service(settings, rooms, artworks, kv)
    return Services(
        settings=settings,
        db=db,
        objects=objects,
        kv=kv,
        artworks_repo=artworks_repo,
        users_repo=users_repo,
        artworks=artworks,
        gallery=gallery,
        images=ImageService(artworks=artworks, objects=objects),
        views=views,
        downloads=DownloadService(objects),
        background=background,
        auth=auth,
        rooms=rooms,
        live_rooms=live_rooms,
    )


# --- background jobs, analytics, e-mail ---------------------------------------------
@dataclass
class BackgroundServices:
    """The job queue and what runs on it: jobs, analytics, e-mail, idempotency keys."""

    queue: JobQueue
    jobs: JobService
    analytics: AnalyticsService
    notifications: NotificationService
    idempotency: IdempotencyService
    generator: FrameGenerator
    engine_limits: EngineLimits
    exports: ExportService
    runner: JobRunner
    imports: ImportService | None = None
    export_all: ExportAllService | None = None


def build_export_all(
    settings: Settings,
    *,
    artworks: ArtworkService,
    artworks_repo: SqlArtworkRepository,
    objects: ObjectStore,
    background: BackgroundServices,
    auth: AuthServices,
    db: Database,
) -> ExportAllService:
    """The export-all service, reading the account parts through their services."""
    from asciihub.services.accounts import account_json
    from asciihub.services.export_all import AccountData
    from asciihub.services.shares import share_json
    from asciihub.services.tokens import token_json

    accounts_repo = SqlAccountRepository(db)
    share_repo = SqlShareRepository(db)
    token_repo = SqlTokenRepository(db)

    async def account(user_id: str) -> Any:
        row = await accounts_repo.get(user_id)
        return account_json(row) if row is not None else {"id": user_id}

    async def tokens(user_id: str) -> Any:
        return [token_json(row) for row in await token_repo.list_for(user_id)]

    async def shares(artwork_id: str) -> Any:
        return [share_json(row) for row in await share_repo.list_for(artwork_id)]

    return ExportAllService(
        artworks=artworks,
        artworks_repo=artworks_repo,
        objects=objects,
        jobs=background.jobs,
        account_data=AccountData(
            account=account,
            preferences=auth.preferences.get,
            tokens=tokens,
            shares=shares,
        ),
        ttl_seconds=settings.export_all_ttl,
        public_url=settings.resolved_public_url(),
        spool_bytes=settings.export_spool_bytes,
    )


def import_limits(settings: Settings) -> ImportLimits:
    """The caps on imports from Settings."""
    from asciihub.services.archives import ArchiveLimits

    return ImportLimits(
        max_bytes=settings.import_max_bytes,
        archive=ArchiveLimits(
            max_entries=settings.import_max_entries,
            max_unpacked_bytes=settings.import_max_unpacked_bytes,
            max_ratio=settings.import_max_ratio,
        ),
        idle_time_limit=settings.import_idle_time_limit,
        document=input_limits(settings).document,
    )


async def open_queue(settings: Settings, *, consumer_name: str | None = None) -> JobQueue:
    """The job queue named by Settings."""
    return await open_job_queue(
        settings.resolved_queue_url(),
        accept_queue_loss=settings.accept_queue_loss,
        sqlite_synchronous=settings.queue_sqlite_synchronous,
        delivery_delay=settings.queue_delivery_delay,
        consumer_name=consumer_name,
    )


def frame_generator(settings: Settings) -> FrameGenerator:
    """The AI provider when ``ai_url`` is set, else the procedural generator."""
    limits = GenerateLimits(
        max_prompt_chars=settings.max_prompt_chars,
        max_frames=settings.max_frames,
        max_columns=settings.max_width,
        max_rows=settings.max_height,
    )
    if settings.ai_url:
        from asciihub.ai import OpenAICompatibleGenerator, ProviderConfig

        config = ProviderConfig(
            base_url=settings.ai_url,
            model=settings.ai_model,
            api_key=settings.ai_api_key,
            timeout=settings.ai_timeout,
        )
        return OpenAICompatibleGenerator(config, limits=limits)
    return ProceduralGenerator(limits)


async def build_background(
    settings: Settings,
    *,
    db: Database,
    objects: ObjectStore,
    artworks: ArtworkService,
    users_repo: SqlUserRepository,
    views: ViewCounter,
    kv: KVStore,
    queue: JobQueue | None = None,
) -> BackgroundServices:
    """Open the queue and wire the job, analytics and e-mail services; hook them in."""
    from asciihub.engine.charsets import STYLES

    queue = queue or await open_queue(settings)
    jobs = JobService(
        SqlJobRepository(db),
        queue,
        objects,
        artworks=artworks.artworks,
        limits=JobLimits(
            max_prompt_chars=settings.max_prompt_chars,
            max_title_chars=settings.max_title_chars,
            max_frames=min(settings.jobs_max_frames, settings.max_frames),
            max_width=settings.max_width,
            max_height=settings.max_height,
            upload_max_bytes=settings.upload_max_bytes,
            styles=tuple(STYLES),
        ),
        requeue_after=settings.jobs_requeue_after,
        outage_patience=settings.jobs_outage_patience,
    )
    analytics = AnalyticsService(
        SqlAnalyticsRepository(db),
        queue,
        max_point_bytes=settings.analytics_max_point_bytes,
        max_points=settings.analytics_max_points,
        retention_days=settings.analytics_retention_days,
    )
    mailer = open_mailer(
        settings.smtp_url, settings.smtp_from, settings.data_path, timeout=settings.smtp_timeout
    )
    notifications = NotificationService(
        queue, mailer, users_repo, public_url=settings.resolved_public_url(), kv=kv
    )
    artworks.on_change = jobs.enqueue_thumbnail
    views.on_flush = analytics.views_flushed
    exports = ExportService(
        SqlExportRepository(db),
        jobs,
        artworks,
        limits=ExportLimits(
            max_frames=settings.export_max_frames,
            max_pixels=settings.export_max_pixels,
            font_size=settings.export_font_size,
            spool_bytes=settings.export_spool_bytes,
        ),
        public_url=settings.resolved_public_url(),
        presigned_downloads=settings.export_presigned_downloads,
    )
    engine_limits = EngineLimits(
        max_pixels=settings.engine_max_image_pixels,
        max_frames=settings.max_frames,
        max_video_seconds=settings.engine_max_video_seconds,
        max_video_pixels=settings.engine_max_video_pixels,
        max_columns=settings.max_width,
        max_rows=settings.max_height,
    )
    generator = frame_generator(settings)
    runner = JobRunner(
        jobs=jobs,
        artworks=artworks,
        objects=objects,
        analytics=analytics,
        exports=exports,
        notifications=notifications,
        generator=generator,
        engine_limits=engine_limits,
        limits=RunLimits(
            max_frames=settings.max_frames,
            cell_aspect=settings.engine_cell_aspect,
            progress_interval=settings.jobs_progress_interval,
            imports=import_limits(settings),
        ),
    )
    return BackgroundServices(
        queue=queue,
        jobs=jobs,
        analytics=analytics,
        notifications=notifications,
        idempotency=IdempotencyService(SqlIdempotencyRepository(db), ttl=settings.idempotency_ttl),
        generator=generator,
        exports=exports,
        engine_limits=engine_limits,
        runner=runner,
        imports=ImportService(
            artworks=artworks, jobs=jobs, objects=objects, limits=import_limits(settings)
        ),
    )
