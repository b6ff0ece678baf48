"""``dlq redrive`` on AWS starts one SQS message move task, and never a second while one runs.

moto has no message move tasks, so botocore's Stubber answers here: it checks each request's
parameters against the API model, and nothing leaves the process.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from adapters.aws.session import AwsClients
from adapters.aws.sqs_queue import SqsQueue

REGION = "ap-southeast-3"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/sp-raw-events"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/sp-raw-events-dlq"
DLQ_ARN = f"arn:aws:sqs:{REGION}:123456789012:sp-raw-events-dlq"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:sp-raw-events"


@pytest.fixture
def sqs():
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        clients = AwsClients(REGION)
        clients._clients["sqs"] = client
        policy = json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": "5"})
        stubber.add_response("get_queue_attributes", {"Attributes": {"RedrivePolicy": policy}})
        stubber.add_response("get_queue_url", {"QueueUrl": DLQ_URL}, {"QueueName": "sp-raw-events-dlq"})
        stubber.add_response(
            "get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, {"QueueUrl": DLQ_URL, "AttributeNames": ANY}
        )
        yield SqsQueue(clients, QUEUE_URL), stubber
        stubber.assert_no_pending_responses()


def counts(visible: int, hidden: int = 0) -> dict:
    return {
        "Attributes": {
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(hidden),
        }
    }


def test_redrive_starts_a_move_task_back_to_the_work_queue(sqs) -> None:
    queue, stubber = sqs
    stubber.add_response("list_message_move_tasks", {"Results": []}, {"SourceArn": DLQ_ARN, "MaxResults": 1})
    stubber.add_response("get_queue_attributes", counts(3, 1), {"QueueUrl": DLQ_URL, "AttributeNames": ANY})
    # The work queue named as the destination: the operators' policy may send there only.
    stubber.add_response(
        "get_queue_attributes", {"Attributes": {"QueueArn": QUEUE_ARN}}, {"QueueUrl": QUEUE_URL, "AttributeNames": ANY}
    )
    stubber.add_response(
        "start_message_move_task", {"TaskHandle": "task-1"}, {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN}
    )
    redrive = queue.redrive()
    assert (redrive.messages, redrive.started) == (4, True) and "task-1" in redrive.detail


def test_redrive_while_a_task_runs_starts_no_second(sqs) -> None:
    queue, stubber = sqs
    running = {"Status": "RUNNING", "ApproximateNumberOfMessagesToMove": 40, "ApproximateNumberOfMessagesMoved": 15}
    stubber.add_response("list_message_move_tasks", {"Results": [running]}, {"SourceArn": DLQ_ARN, "MaxResults": 1})
    redrive = queue.redrive()
    assert (redrive.messages, redrive.started) == (40, False)
    assert redrive.detail == "a redrive is already running: 15 of 40 moved"


def test_redrive_of_an_empty_dead_letter_queue_starts_nothing(sqs) -> None:
    queue, stubber = sqs
    done = {"Status": "COMPLETED", "ApproximateNumberOfMessagesToMove": 4, "ApproximateNumberOfMessagesMoved": 4}
    stubber.add_response("list_message_move_tasks", {"Results": [done]}, {"SourceArn": DLQ_ARN, "MaxResults": 1})
    stubber.add_response("get_queue_attributes", counts(0), {"QueueUrl": DLQ_URL, "AttributeNames": ANY})
    redrive = queue.redrive()
    assert (redrive.messages, redrive.started, redrive.detail) == (0, False, "the dead-letter queue is empty")
