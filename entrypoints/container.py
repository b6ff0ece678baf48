"""The composition root: one container that wires use-cases to local or AWS adapters."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dependency_injector import providers

from adapters.clock import SystemClock
from application.access.api_keys import Authenticate
from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from entrypoints.memory import release_free_memory
from entrypoints.settings import Settings


def _built_on_first_use(module: str, name: str) -> Callable[..., Any]:
    """A factory for ``module.name`` that imports it only when first called, so that each
    door imports only what it builds: ProcessRawFile, Reconcile and BuildInsights bring
    pandas, pyarrow, polars and pandera, which the API (built from this same container) never
    needs; the AWS adapters bring boto3, which a local command never needs; the local
    adapters bring sqlite3, which the Lambda never needs. The use-cases the API serves are
    imported directly: its routes import them anyway."""

    def build(*args: Any, **dependencies: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **dependencies)

    return build


# What dependency-injector's wiring imports, when installed, to recognise their markers in the
# functions it wires. This container is never wired (each door is handed it), so they are
# hidden while ``containers`` is imported: FastAPI alone cost every command 0.2-0.3 s.
_WIRING_EXTRAS = ("fastapi", "starlette", "werkzeug", "fast_depends")


def _containers_module() -> ModuleType:
    hidden = [name for name in _WIRING_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it fails at once
    try:
        return importlib.import_module("dependency_injector.containers")
    finally:
        for name in hidden:
            del sys.modules[name]


if TYPE_CHECKING:
    from dependency_injector import containers
else:
    containers = _containers_module()
AwsClients = _built_on_first_use("adapters.aws.session", "AwsClients")
SqsQueue = _built_on_first_use("adapters.aws.sqs_queue", "SqsQueue")
S3ObjectStore = _built_on_first_use("adapters.aws.s3_object_store", "S3ObjectStore")
DynamoRecordRepository = _built_on_first_use("adapters.aws.dynamodb_repository", "DynamoRecordRepository")
DynamoApiKeyStore = _built_on_first_use("adapters.aws.dynamodb_api_keys", "DynamoApiKeyStore")
ApiGatewayKeys = _built_on_first_use("adapters.aws.dynamodb_api_keys", "ApiGatewayKeys")
FolderObjectStore = _built_on_first_use("adapters.local.folder_object_store", "FolderObjectStore")
QueueNotifier = _built_on_first_use("adapters.local.queue_notifier", "QueueNotifier")
SqliteApiKeyStore = _built_on_first_use("adapters.local.sqlite_api_keys", "SqliteApiKeyStore")
SqliteQueue = _built_on_first_use("adapters.local.sqlite_queue", "SqliteQueue")
SqliteRecordRepository = _built_on_first_use("adapters.local.sqlite_repository", "SqliteRecordRepository")
TemporaryFiles = _built_on_first_use("adapters.local.temporary_files", "TemporaryFiles")
RawFileAnnouncer = _built_on_first_use("adapters.raw_file_announcer", "RawFileAnnouncer")
NoGateway = _built_on_first_use("application.access.api_keys", "NoGateway")
IssueApiKey = _built_on_first_use("application.access.api_keys", "IssueApiKey")
RevokeApiKey = _built_on_first_use("application.access.api_keys", "RevokeApiKey")
LoadBatch = _built_on_first_use("application.loading.load_batch", "LoadBatch")
PipelineStatus = _built_on_first_use("application.operations.pipeline_status", "PipelineStatus")
ReplayRawFiles = _built_on_first_use("application.operations.replay_raw_files", "ReplayRawFiles")
IcebergTables = _built_on_first_use("adapters.iceberg_tables", "IcebergTables")
SqliteRecordIndex = _built_on_first_use("adapters.local.sqlite_record_index", "SqliteRecordIndex")
DynamoRecordIndex = _built_on_first_use("adapters.aws.dynamodb_record_index", "DynamoRecordIndex")
KeyFile = _built_on_first_use("adapters.local.key_file", "KeyFile")
SecretsManagerKey = _built_on_first_use("adapters.aws.secret_key", "SecretsManagerKey")
RowNotes = _built_on_first_use("application.erasure.row_notes", "RowNotes")
ErasureLog = _built_on_first_use("application.erasure.erasure_log", "ErasureLog")
FileErasureRequest = _built_on_first_use("application.erasure.erasure_requests", "FileErasureRequest")
ErasureRequestStatus = _built_on_first_use("application.erasure.erasure_requests", "ErasureRequestStatus")


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    scratch = providers.Singleton(TemporaryFiles)
    aws = providers.Singleton(AwsClients)

    local_queue = providers.Singleton(
        SqliteQueue,
        path=config.queue_path,
        visibility_timeout=config.queue_visibility_timeout,
        max_receives=config.queue_max_receives,
    )
    queue = providers.Selector(
        config.backend, local=local_queue, aws=providers.Singleton(SqsQueue, aws, queue_url=config.queue_url)
    )

    raw_store = providers.Selector(
        config.backend,
        local=providers.Singleton(
            FolderObjectStore,
            root=config.raw_dir,
            bucket="raw",
            on_created=providers.Factory(QueueNotifier, local_queue),
        ),
        aws=providers.Singleton(S3ObjectStore, aws, bucket=config.raw_bucket, setting="RAW_BUCKET_NAME"),
    )
    cleaned_store = providers.Selector(
        config.backend,
        local=providers.Singleton(FolderObjectStore, root=config.cleaned_dir, bucket="cleaned"),
        aws=providers.Singleton(S3ObjectStore, aws, bucket=config.cleaned_bucket, setting="CLEANED_BUCKET_NAME"),
    )
    error_store = providers.Selector(
        config.backend,
        local=providers.Singleton(FolderObjectStore, root=config.error_dir, bucket="error"),
        aws=providers.Singleton(S3ObjectStore, aws, bucket=config.error_bucket, setting="ERROR_BUCKET_NAME"),
    )
    # The queue adapters hold their dead-letter queue too (application/operations/dead_letters.py).
    dead_letter_queue = queue
    # Replayed files are announced with S3's own event, naming the bucket they are in.
    raw_file_announcer = providers.Factory(
        RawFileAnnouncer,
        queue,
        bucket=providers.Selector(config.backend, local=providers.Object("raw"), aws=config.raw_bucket),
    )
    repository = providers.Selector(
        config.backend,
        local=providers.Singleton(SqliteRecordRepository, path=config.database_path),
        aws=providers.Singleton(DynamoRecordRepository, aws, table_name=config.table_name),
    )

    api_key_store = providers.Selector(
        config.backend,
        local=providers.Singleton(SqliteApiKeyStore, path=config.api_keys_path),
        aws=providers.Singleton(DynamoApiKeyStore, aws, table_name=config.api_keys_table),
    )
    key_gateway = providers.Selector(
        config.backend,
        local=providers.Singleton(NoGateway),
        aws=providers.Singleton(ApiGatewayKeys, aws, usage_plan_id=config.usage_plan_id),
    )
    authenticate = providers.Singleton(Authenticate, store=api_key_store)
    issue_api_key = providers.Factory(IssueApiKey, store=api_key_store, clock=clock, gateway=key_gateway)
    revoke_api_key = providers.Factory(RevokeApiKey, store=api_key_store, clock=clock, gateway=key_gateway)

    submit_record = providers.Factory(SubmitRecord, raw=raw_store, clock=clock)
    submission_status = providers.Factory(SubmissionStatus, raw=raw_store, cleaned=cleaned_store, errors=error_store)
    vehicle_history = providers.Factory(VehicleHistory, repository=repository)
    # The analytics tables: Apache Iceberg in a SQLite catalog, or in the stack's Glue database.
    analytics_tables = providers.Selector(
        config.backend,
        local=providers.Singleton(
            IcebergTables,
            catalog=providers.Singleton(
                _built_on_first_use("adapters.local.iceberg_catalog", "sqlite_catalog"),
                catalog_path=config.analytics_catalog_path,
                warehouse_dir=config.analytics_warehouse_dir,
            ),
        ),
        aws=providers.Singleton(
            IcebergTables,
            catalog=providers.Singleton(
                _built_on_first_use("adapters.aws.glue_iceberg_catalog", "glue_catalog"),
                aws,
                cleaned_bucket=config.cleaned_bucket,
            ),
            namespace=config.analytics_database,
            creates_namespace=False,
        ),
    )
    build_insights = providers.Factory(
        _built_on_first_use("application.analytics.insights", "BuildInsights"),
        catalog=analytics_tables,
        engine=providers.Factory(_built_on_first_use("adapters.duckdb_engine", "DuckDbEngine")),
    )
    publish_tables = providers.Factory(
        _built_on_first_use("application.analytics.publish_tables", "PublishTables"),
        cleaned=cleaned_store,
        errors=error_store,
        catalog=analytics_tables,
        clock=clock,
    )
    record_lookup = providers.Factory(ServiceRecordLookup, repository=repository)
    # Who is in which raw file (for erasures), and the key customers' tokens are made with.
    record_index = providers.Selector(
        config.backend,
        local=providers.Singleton(SqliteRecordIndex, path=config.record_index_path),
        aws=providers.Singleton(DynamoRecordIndex, aws, table_name=config.record_index_table),
    )
    pseudonym_key = providers.Selector(
        config.backend,
        local=providers.Singleton(KeyFile, path=config.pseudonym_key_path),
        aws=providers.Singleton(SecretsManagerKey, aws, secret_id=config.pseudonym_key_secret),
    )
    row_notes = providers.Singleton(RowNotes, index=record_index, key=pseudonym_key)
    process_raw_file = providers.Factory(
        _built_on_first_use("application.processing.process_raw_file", "ProcessRawFile"),
        raw=raw_store,
        cleaned=cleaned_store,
        errors=error_store,
        clock=clock,
        chunk_bytes=config.batch_bytes,
        scratch=scratch,
        between_batches=providers.Object(release_free_memory),
        notes=row_notes,
    )
    erasure_log = providers.Factory(ErasureLog, store=raw_store)
    file_erasure_request = providers.Factory(FileErasureRequest, raw=raw_store, clock=clock)
    erasure_request_status = providers.Factory(ErasureRequestStatus, raw=raw_store)
    forget_person = providers.Factory(
        _built_on_first_use("application.erasure.forget", "ForgetPerson"),
        raw=raw_store,
        cleaned=cleaned_store,
        errors=error_store,
        index=record_index,
        key=pseudonym_key,
        repository=repository,
        catalog=analytics_tables,
        clock=clock,
        scratch=scratch,
    )
    load_batch = providers.Factory(LoadBatch, cleaned=cleaned_store, repository=repository, clock=clock)
    replay_raw_files = providers.Factory(ReplayRawFiles, raw=raw_store, announce=raw_file_announcer)
    reconcile = providers.Factory(
        _built_on_first_use("application.operations.reconcile", "Reconcile"),
        raw=raw_store,
        cleaned=cleaned_store,
        errors=error_store,
        repository=repository,
        catalog=analytics_tables,
    )
    pipeline_status = providers.Factory(
        PipelineStatus, raw=raw_store, cleaned=cleaned_store, queue=queue, repository=repository
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container configured from ``settings`` (default: the environment)."""
    container = Container()
    container.config.from_dict((settings or Settings.from_env()).to_config())
    return container
