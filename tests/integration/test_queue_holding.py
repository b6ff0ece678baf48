"""When a receipt handle stops holding its message, both queues say so the same way
(``MessageNotHeld``), so that the worker can tell "another worker has this file now" from a
queue out of reach. SQS refuses a renewal with ReceiptHandleIsInvalid, MessageNotInflight,
or InvalidParameterValue ("... for parameter ReceiptHandle is invalid. Reason: The receipt
handle has expired."); moto refuses only a deleted message's, so the stricter cases are
checked on the SQLite queue and on the SQS adapter's translation of AWS's answers."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from adapters.aws.sqs_queue import SqsQueue
from adapters.local.sqlite_queue import SqliteQueue
from application.errors import MessageNotHeld
from tests.integration.backends import BACKENDS, backend

pytestmark = pytest.mark.usefixtures("aws_env")


@pytest.mark.parametrize("name", BACKENDS)
def test_a_message_deleted_by_its_new_holder_is_not_held_by_the_old_handle(name, tmp_path) -> None:
    with backend(name, tmp_path, visibility_timeout=30) as b:
        b.queue.send("file")
        (first,) = b.queue.receive(1, 0)
        b.queue.change_visibility(first.receipt_handle, 0)  # lapsed: another worker takes it
        (second,) = b.queue.receive(1, 0)
        b.queue.delete(second.receipt_handle)
        with pytest.raises(MessageNotHeld):
            b.queue.change_visibility(first.receipt_handle, 30)
        b.queue.delete(first.receipt_handle)  # deleting again is harmless, as on SQS
        stats = b.queue.stats()
        assert (stats.visible, stats.in_flight) == (0, 0)


@pytest.mark.parametrize("name", BACKENDS)
def test_the_handle_of_a_held_message_renews_it(name, tmp_path) -> None:
    with backend(name, tmp_path, visibility_timeout=30) as b:
        b.queue.send("file")
        (held,) = b.queue.receive(1, 0)
        b.queue.change_visibility(held.receipt_handle, 30)
        assert b.queue.receive(1, 0) == []
        b.queue.delete(held.receipt_handle)
        assert b.queue.stats().in_flight == 0


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sqlite_refuses_to_renew_a_message_whose_visibility_lapsed(tmp_path) -> None:
    """As SQS does (MessageNotInflight): renewing would hide a message that any worker may
    have taken meanwhile. The message stays visible."""
    clock = Clock()
    queue = SqliteQueue(tmp_path / "q.sqlite", visibility_timeout=30, clock=clock)
    queue.send("file")
    (held,) = queue.receive(1, 0)
    clock.t += 29.999
    queue.change_visibility(held.receipt_handle, 30)  # the last moment it is held
    clock.t += 30
    with pytest.raises(MessageNotHeld):
        queue.change_visibility(held.receipt_handle, 30)  # the first moment it is not
    assert [m.body for m in queue.receive(1, 0)] == ["file"]


def test_sqlite_refuses_the_old_handle_of_a_message_received_again(tmp_path) -> None:
    clock = Clock()
    queue = SqliteQueue(tmp_path / "q.sqlite", visibility_timeout=30, clock=clock)
    queue.send("file")
    (first,) = queue.receive(1, 0)
    clock.t += 31
    (second,) = queue.receive(1, 0)
    with pytest.raises(MessageNotHeld):
        queue.change_visibility(first.receipt_handle, 30)
    queue.delete(first.receipt_handle)  # not the holder's: the message stays with its holder
    assert queue.stats().in_flight == 1
    queue.change_visibility(second.receipt_handle, 30)


class AnsweringSqs:
    """An SQS client that refuses every renewal and delete with one AWS error."""

    def __init__(self, code: str, message: str) -> None:
        self.error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}

    def change_message_visibility(self, **kwargs):
        raise ClientError(self.error, "ChangeMessageVisibility")

    def delete_message(self, **kwargs):
        raise ClientError(self.error, "DeleteMessage")


class Clients:
    def __init__(self, sqs: AnsweringSqs) -> None:
        self.sqs = sqs

    def client(self, name: str) -> AnsweringSqs:
        return self.sqs


@pytest.mark.parametrize(
    "code, message",
    [
        ("ReceiptHandleIsInvalid", "The input receipt handle is invalid."),
        ("AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight."),
        ("MessageNotInflight", "The message referred to isn't in flight."),
        (
            "InvalidParameterValue",
            "Value AQEB for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
        ),
        (
            "InvalidParameterValue",
            "Value AQEB for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
            "available for visibility timeout change.",
        ),
    ],
)
def test_sqs_answers_that_the_handle_no_longer_holds_its_message_are_message_not_held(code, message) -> None:
    queue = SqsQueue(Clients(AnsweringSqs(code, message)), "https://sqs.ap-southeast-3.amazonaws.com/1/q")
    with pytest.raises(MessageNotHeld, match="no longer holds its message"):
        queue.change_visibility("AQEB", 30)
    with pytest.raises(MessageNotHeld):
        queue.delete("AQEB")


def test_other_invalid_parameters_are_not_mistaken_for_a_lost_message() -> None:
    answer = AnsweringSqs("InvalidParameterValue", "Value 43201 for parameter VisibilityTimeout is invalid.")
    queue = SqsQueue(Clients(answer), "https://sqs.ap-southeast-3.amazonaws.com/1/q")
    with pytest.raises(ClientError):
        queue.change_visibility("AQEB", 43201)
