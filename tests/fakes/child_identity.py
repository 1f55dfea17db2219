"""A child for awsrun's tests: asks STS (through boto3, as any SDK would) who it is, and
prints that with the credential variables it was given, as one JSON object."""

from __future__ import annotations

import json
import os

import boto3

region = os.environ.get("AWS_REGION") or "us-east-1"
identity = boto3.client("sts", region_name=region).get_caller_identity()
print(
    json.dumps(
        {
            "arn": identity["Arn"],
            "pid": os.getpid(),
            "env": {name: value for name, value in os.environ.items() if name.startswith("AWS")},
        }
    )
)
