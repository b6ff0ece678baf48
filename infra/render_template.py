"""The template as it is deployed: ``python -m infra.render_template OUT``.

One change from ``infra/template.yaml``: the API's ``AWS::ApiGateway::Deployment`` gets a
logical id that ends in a hash of the API's routes (its RestApi, Resources and Methods) and
gateway responses. A
Deployment is a snapshot taken when it is created, and CloudFormation creates one only for a
new logical id: under a fixed id, a changed route would never reach stage ``v1``.

CloudFormation takes a template body of at most 51,200 bytes in a request, and one read from
S3 of at most 1 MB (the Service Quotas of CloudFormation): ``deploy.sh`` uploads it to the
artifact bucket (``--s3-bucket``), and this refuses a rendered template over 1 MB.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "template.yaml"
DEPLOYMENT = "ApiDeployment"
# What a deployment snapshots: the routes, and API Gateway's own answers.
ROUTE_TYPES = {
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::GatewayResponse",
}
TEMPLATE_BODY_LIMIT = 51_200  # bytes, in a CreateStack/UpdateStack request
TEMPLATE_URL_LIMIT = 1_000_000  # bytes, read from S3


def routes_hash(text: str) -> str:
    """A short hash of every resource that makes the API's routes."""
    from cfnlint.decode import cfn_yaml

    resources: dict[str, Any] = cfn_yaml.loads(text)["Resources"]
    routes = {name: r for name, r in resources.items() if r.get("Type") in ROUTE_TYPES}
    return hashlib.sha256(json.dumps(routes, sort_keys=True, default=str).encode()).hexdigest()[:12]


def render(text: str) -> str:
    """``text`` with the Deployment's logical id (and every reference to it) hashed."""
    deployment = f"{DEPLOYMENT}{routes_hash(text)}"
    return re.sub(rf"\b{DEPLOYMENT}\b", deployment, text)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m infra.render_template OUT", file=sys.stderr)
        return 2
    rendered = render(TEMPLATE.read_text()).encode()
    if len(rendered) > TEMPLATE_URL_LIMIT:
        print(
            f"render_template: the template is {len(rendered):,} bytes, over CloudFormation's "
            f"{TEMPLATE_URL_LIMIT:,} for a template in S3: split it into nested stacks",
            file=sys.stderr,
        )
        return 1
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(rendered)
    print(f"{out}: {len(rendered):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
