"""For mypy: each adapter implements its port. Assigning an adapter to a variable of its
port's type makes mypy compare every method's signature; nothing here runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.aws.dynamodb_api_keys import ApiGatewayKeys, DynamoApiKeyStore
    from adapters.aws.dynamodb_repository import DynamoRecordRepository
    from adapters.aws.s3_object_store import S3ObjectStore
    from adapters.aws.sqs_queue import SqsQueue
    from adapters.clock import SystemClock
    from adapters.local.folder_object_store import FolderObjectStore
    from adapters.local.in_memory import (
        FixedClock,
        InMemoryApiKeyStore,
        InMemoryObjectStore,
        InMemoryQueue,
        InMemoryRecordRepository,
        InMemoryScratch,
    )
    from adapters.local.sqlite_api_keys import SqliteApiKeyStore
    from adapters.local.sqlite_queue import SqliteQueue
    from adapters.local.sqlite_repository import SqliteRecordRepository
    from adapters.local.temporary_files import TemporaryFiles
    from application.access.api_keys import ApiKeyStore, KeyGateway, NoGateway
    from application.ports import Clock, ObjectStore, Queue, RecordRepository, ScratchSpace

    def _key_stores(a: DynamoApiKeyStore, b: SqliteApiKeyStore, c: InMemoryApiKeyStore) -> list[ApiKeyStore]:
        return [a, b, c]

    def _gateways(a: ApiGatewayKeys, b: NoGateway) -> list[KeyGateway]:
        return [a, b]

    def _stores(a: S3ObjectStore, b: FolderObjectStore, c: InMemoryObjectStore) -> list[ObjectStore]:
        return [a, b, c]

    def _queues(a: SqsQueue, b: SqliteQueue, c: InMemoryQueue) -> list[Queue]:
        return [a, b, c]

    def _repositories(
        a: DynamoRecordRepository, b: SqliteRecordRepository, c: InMemoryRecordRepository
    ) -> list[RecordRepository]:
        return [a, b, c]

    def _scratch(a: TemporaryFiles, b: InMemoryScratch) -> list[ScratchSpace]:
        return [a, b]

    def _clocks(a: SystemClock, b: FixedClock) -> list[Clock]:
        return [a, b]
