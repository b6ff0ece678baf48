"""A deployed stack, tried end to end: ``python -m infra.smoke_test REGION ENVIRONMENT``.

With a fresh admin key it submits one record through the stack's real URL, waits until the
worker has processed it, runs the loader on demand, reads the record back through the API,
and revokes the key (always, also after a failure). Each step prints one line with the time it
took; exit 1 names the step that failed. The record is a sample record of dealership
``DLR-SMOKE-TEST`` with an id starting ``SMOKE-`` (analysts leave that dealership out).
Needs the operators' policy (output ``OperatorPolicyArn``) plus ``glue:StartJobRun`` and
``glue:GetJobRun`` on the loader job, and ``cloudformation:DescribeStacks``.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Send = Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]]
SMOKE_DEALER = "DLR-SMOKE-TEST"


class SmokeFailed(RuntimeError):
    """A step did not do what it should; the message names the step and what was seen."""


@dataclass(frozen=True)
class Deployed:
    """What the smoke test needs of a stack: its outputs."""

    region: str
    api_url: str
    api_keys_table: str
    usage_plan_id: str
    loader_job: str

    @classmethod
    def of(cls, region: str, outputs: dict[str, str]) -> Deployed:
        return cls(
            region=region,
            api_url=outputs["ApiUrl"].rstrip("/"),
            api_keys_table=outputs["ApiKeysTableName"],
            usage_plan_id=outputs["UsagePlanId"],
            loader_job=outputs["LoaderJobName"],
        )


def stack_outputs(region: str, environment: str) -> dict[str, str]:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    (stack,) = cloudformation.describe_stacks(StackName=f"servicepipe-{environment}")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def https_send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
    if not url.startswith("https://"):
        raise SmokeFailed(f"the API URL {url!r} is not https")
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    # B310 is about file:// and custom schemes: only https reaches here (checked above).
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def glue_loader(deployed: Deployed, sleep: Callable[[float], None] = time.sleep) -> Callable[[], None]:
    """Runs the stack's loader job once and waits for it."""

    def run() -> None:
        import boto3

        glue = boto3.client("glue", region_name=deployed.region)
        run_id = glue.start_job_run(JobName=deployed.loader_job)["JobRunId"]
        while True:
            state = glue.get_job_run(JobName=deployed.loader_job, RunId=run_id)["JobRun"]["JobRunState"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "ERROR", "TIMEOUT", "STOPPED"):
                raise SmokeFailed(f"the loader job run {run_id} ended {state}: see its log in the Glue console")
            sleep(10)

    return run


class SmokeTest:
    def __init__(
        self,
        deployed: Deployed,
        send: Send,
        run_loader: Callable[[], None],
        timeout: float = 900,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = print,
    ) -> None:
        self.deployed, self.send, self.run_loader = deployed, send, run_loader
        self.timeout, self.sleep, self.say = timeout, sleep, say

    def __call__(self) -> None:
        from adapters.aws.dynamodb_api_keys import ApiGatewayKeys, DynamoApiKeyStore
        from adapters.aws.session import AwsClients
        from adapters.clock import SystemClock
        from application.access.api_keys import IssueApiKey, RevokeApiKey

        clients = AwsClients(self.deployed.region)
        store = DynamoApiKeyStore(clients, self.deployed.api_keys_table)
        gateway = ApiGatewayKeys(clients, self.deployed.usage_plan_id)
        entry, key = self._step("issue an admin key", lambda: IssueApiKey(store, SystemClock(), gateway)(None, True))
        try:
            self._run(key)
        finally:
            self._step("revoke the key", lambda: RevokeApiKey(store, SystemClock(), gateway)(entry.key_id))

    def _run(self, key: str) -> None:
        record = _smoke_record()
        headers = {"x-api-key": key, "Content-Type": "application/json"}
        url = self.deployed.api_url
        receipt = self._step("submit one record", lambda: self._until_accepted(url, headers, record))
        status_url = f"{url}/submissions/{receipt['submission_id']}"
        self._step("wait for the worker", lambda: self._until_processed(status_url, headers))
        self._step("run the loader", self.run_loader)
        record_url = f"{url}/service-records/{record['service_record_id']}?dealer_id={SMOKE_DEALER}"
        self._step("read the record back", lambda: self._read_back(record_url, headers, record))

    def _step(self, name: str, work: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            result = work()
        except SmokeFailed:
            raise
        except Exception as err:  # any other failure of the step, named
            raise SmokeFailed(f"{name}: {type(err).__name__}: {err}") from err
        self.say(f"ok   {name} ({time.monotonic() - started:.1f} s)")
        return result

    def _until(self, what: str, attempt: Callable[[], Any | None]) -> Any:
        deadline = time.monotonic() + self.timeout
        while True:
            result = attempt()
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise SmokeFailed(f"{what}: still not done after {self.timeout:.0f} s")
            self.sleep(5)

    def _until_accepted(self, url: str, headers: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps([record]).encode()

        def attempt() -> dict[str, Any] | None:
            status, answer = self.send("POST", f"{url}/service-records", headers, body)
            if status == 403:  # API Gateway learns a new key within a minute or so
                return None
            if status != 202:
                raise SmokeFailed(f"submit one record: HTTP {status}: {answer[:300]!r}")
            return dict(json.loads(answer))

        return self._until("submit one record (the new key was refused)", attempt)

    def _until_processed(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        def attempt() -> dict[str, Any] | None:
            status, answer = self.send("GET", url, headers, None)
            if status != 200:
                raise SmokeFailed(f"wait for the worker: HTTP {status}: {answer[:300]!r}")
            report = dict(json.loads(answer))
            if report["status"] == "received":
                return None
            if report["status"] != "processed" or report["valid_rows"] != 1:
                raise SmokeFailed(f"wait for the worker: the record was not accepted: {report}")
            return report

        return self._until("wait for the worker", attempt)

    def _read_back(self, url: str, headers: dict[str, str], record: dict[str, Any]) -> None:
        status, answer = self.send("GET", url, headers, None)
        if status != 200:
            raise SmokeFailed(f"read the record back: HTTP {status}: {answer[:300]!r}")
        loaded = json.loads(answer)
        sent = (record["service_record_id"], record["vehicle"]["vin"])
        if (loaded.get("service_record_id"), loaded.get("vin")) != sent:
            raise SmokeFailed(f"read the record back: got {loaded.get('service_record_id')!r}, sent {sent[0]!r}")


def _smoke_record() -> dict[str, Any]:
    from entrypoints.sample_data import generate_records

    (record,) = generate_records(1, bad_fraction=0, seed=uuid.uuid4().int % 10_000)
    record["service_record_id"] = f"SMOKE-{uuid.uuid4()}"
    record["dealer"]["dealer_id"] = SMOKE_DEALER
    return dict(record)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m infra.smoke_test REGION ENVIRONMENT", file=sys.stderr)
        return 2
    region, environment = argv
    try:
        deployed = Deployed.of(region, stack_outputs(region, environment))
        SmokeTest(deployed, https_send, glue_loader(deployed))()
    except SmokeFailed as err:
        print(f"smoke test failed: {err}", file=sys.stderr)
        return 1
    print(f"servicepipe-{environment} works end to end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
