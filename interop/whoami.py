"""whoami: boto3's default credential chain asks STS who it is, as one JSON line."""

import json
import os

import boto3

session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or "us-east-1")
identity = session.client("sts").get_caller_identity()
credentials = session.get_credentials()
assert credentials is not None
print(
    json.dumps(
        {"Arn": identity["Arn"], "key": credentials.access_key, "provider": credentials.method}
    )
)
