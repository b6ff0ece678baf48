"""The work queue in SQS; its dead-letter queue is found from the redrive policy."""

from __future__ import annotations

import contextlib
import json

from adapters.aws.errors import translated
from adapters.aws.session import AwsClients
from application.ports import Message, QueueStats

MAX_WAIT_SECONDS = 20  # the SQS long-poll maximum


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
        with self._translated():
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        with self._translated():
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
