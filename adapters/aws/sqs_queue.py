"""The work queue in SQS; its dead-letter queue is found from the redrive policy."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from adapters.aws.errors import error_code, translated
from adapters.aws.session import AwsClients
from adapters.s3_events import dead_letter_of
from application.errors import ConfigurationError, MessageNotHeld
from application.operations.dead_letters import DeadLetter, Redrive
from application.ports import Message, QueueStats

MAX_WAIT_SECONDS = 20  # the SQS long-poll maximum
_EPOCH = datetime.fromtimestamp(0, timezone.utc)
PEEK_SECONDS = 30  # how long ``dead_letters`` hides what it reads before giving it back
# SQS's answers when a receipt handle no longer holds its message (deleted, received again,
# or its visibility lapsed); an expired handle comes as an InvalidParameterValue naming it.
NOT_HELD = {"ReceiptHandleIsInvalid", "AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight"}


def _not_held(err: ClientError) -> bool:
    code = error_code(err)
    message = str(err.response.get("Error", {}).get("Message", ""))
    return code in NOT_HELD or (code == "InvalidParameterValue" and "parameter ReceiptHandle is invalid" in message)


@contextlib.contextmanager
def _held() -> Iterator[None]:
    try:
        yield
    except ClientError as err:
        if _not_held(err):
            raise MessageNotHeld(
                "the receipt handle no longer holds its message (deleted, or its visibility lapsed)"
            ) from err
        raise


class SqsQueue:
    def __init__(self, clients: AwsClients, queue_url: str) -> None:
        if not queue_url:
            raise ValueError("no queue configured: set SQS_QUEUE_URL")
        self._clients = clients
        self.queue_url = queue_url
        self._dlq_url: str | None = None

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return translated(resource=f"queue {self.queue_url!r}", setting="SQS_QUEUE_URL")

    def verify(self) -> None:
        """Raise ConfigurationError unless the queue exists and this role may use it."""
        with self._translated():
            self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])

    @property
    def _sqs(self):  # type: ignore[no-untyped-def]
        return self._clients.client("sqs")

    def send(self, body: str) -> None:
        with self._translated():
            self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def receive(self, max_messages: int = 10, wait_seconds: float = 0) -> list[Message]:
        with self._translated():
            answer = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(10, max_messages)),
                WaitTimeSeconds=int(min(MAX_WAIT_SECONDS, max(0, wait_seconds))),
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        return [
            Message(
                message_id=m["MessageId"],
                receipt_handle=m["ReceiptHandle"],
                body=m["Body"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
            )
            for m in answer.get("Messages", [])
        ]

    def delete(self, receipt_handle: str) -> None:
        with _held(), self._translated():
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        with _held(), self._translated():
            self._sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=int(timeout_seconds)
            )

    def _counts(self, url: str) -> tuple[int, int]:
        with self._translated():
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def dead_letter_queue_url(self) -> str | None:
        if self._dlq_url is None:
            with self._translated():
                attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"])
            policy = attributes.get("Attributes", {}).get("RedrivePolicy")
            if not policy:
                return None
            name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
            with self._translated():
                self._dlq_url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._dlq_url

    def stats(self) -> QueueStats:
        visible, in_flight = self._counts(self.queue_url)
        dlq = self.dead_letter_queue_url()
        dead = sum(self._counts(dlq)) if dlq else 0
        return QueueStats(visible=visible, in_flight=in_flight, dead_letter=dead)

    def _dead_letter_url(self) -> str:
        url = self.dead_letter_queue_url()
        if url is None:
            raise ConfigurationError(
                f"queue {self.queue_url!r} has no dead-letter queue (no RedrivePolicy): deploy infra/template.yaml",
                setting="SQS_QUEUE_URL",
            )
        return url

    def _arn(self, url: str) -> str:
        with self._translated():
            return str(
                self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            )

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        """SQS cannot peek: the messages are received (hidden for ``PEEK_SECONDS``), then made
        visible again at once. A dead-letter queue has no redrive policy of its own, so the
        receives it counts move nothing anywhere."""
        url = self._dead_letter_url()
        seen: dict[str, DeadLetter] = {}
        receipts: list[str] = []
        try:
            while len(seen) < limit:
                with self._translated():
                    answer = self._sqs.receive_message(
                        QueueUrl=url,
                        MaxNumberOfMessages=min(10, limit - len(seen)),
                        VisibilityTimeout=PEEK_SECONDS,
                        WaitTimeSeconds=1,
                        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
                    )
                messages = answer.get("Messages", [])
                if not messages:
                    break
                for m in messages:
                    receipts.append(m["ReceiptHandle"])
                    attributes = m.get("Attributes", {})
                    sent = attributes.get("SentTimestamp")
                    sent_at = datetime.fromtimestamp(int(sent) / 1000, timezone.utc) if sent else None
                    # The count the work queue gave it, less this look.
                    count = max(0, int(attributes.get("ApproximateReceiveCount", 1)) - 1)
                    seen.setdefault(m["MessageId"], dead_letter_of(m["MessageId"], count, sent_at, m["Body"]))
        finally:
            for start in range(0, len(receipts), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0}
                    for i, r in enumerate(receipts[start : start + 10])
                ]
                with self._translated():
                    self._sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        return sorted(seen.values(), key=lambda d: (d.sent_at or _EPOCH, d.message_id))

    def redrive(self) -> Redrive:
        """An SQS message move task from the dead-letter queue back to the queue its messages
        came from; it runs on in SQS after this returns. A running task is reported, not doubled."""
        dlq_arn = self._arn(self._dead_letter_url())
        with self._translated():
            tasks = self._sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get("Results", [])
        if tasks and tasks[0].get("Status") == "RUNNING":
            to_move = int(tasks[0].get("ApproximateNumberOfMessagesToMove", 0))
            moved = int(tasks[0].get("ApproximateNumberOfMessagesMoved", 0))
            detail = f"a redrive is already running: {moved:,} of {to_move:,} moved"
            return Redrive(messages=to_move, started=False, detail=detail)
        waiting = sum(self._counts(self._dead_letter_url()))
        if not waiting:
            return Redrive(messages=0, started=False, detail="the dead-letter queue is empty")
        with self._translated():
            # Named, not left to SQS ("back where they came from"): the role may send to this
            # queue only, and IAM judges the destination it is told.
            destination = self._arn(self.queue_url)
            handle = self._sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination)["TaskHandle"]
        return Redrive(messages=waiting, started=True, detail=f"SQS message move task started: {handle}")
