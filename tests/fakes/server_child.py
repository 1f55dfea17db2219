"""A child for `awsrun --server` tests: a boto3 user of the container endpoint.

It reports, as one JSON object: which provider boto3 used, the key it got, the key a new
session gets after a pause (long enough for awsrun's margin to pass), what the endpoint
answers without a token, with a wrong one and with the right one, and its AWS_* names."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3


def status_with(token: str | None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    if token is not None:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


pause = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
session = boto3.session.Session(region_name="us-east-1")
client = session.client("sts")
first_arn = client.get_caller_identity()["Arn"]
credentials = session.get_credentials()
assert credentials is not None
first_key = credentials.get_frozen_credentials().access_key
time.sleep(pause)
later_credentials = boto3.session.Session(region_name="us-east-1").get_credentials()
assert later_credentials is not None
later = later_credentials.get_frozen_credentials()
second_arn = client.get_caller_identity()["Arn"]  # the first client goes on working
good_status, good_body = status_with(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
print(
    json.dumps(
        {
            "method": credentials.method,
            "first_key": first_key,
            "later_key": later.access_key,
            "first_arn": first_arn,
            "second_arn": second_arn,
            "no_token": status_with(None)[0],
            "wrong_token": status_with("not-the-token")[0],
            "right_token": good_status,
            "fields": sorted(good_body),
            "env": sorted(name for name in os.environ if name.startswith("AWS")),
            "url": os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        }
    )
)
