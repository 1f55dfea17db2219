"""awsrun.handoff: the child's environment (the caller's credentials replaced, never
mixed) and the credential_process document, for any value. Pure."""

from __future__ import annotations

import json

from awsrun.credentials.keys import Credentials
from awsrun.handoff.childenv import child_environment, credential_variables
from awsrun.handoff.formats import credential_process_document


def test_child_environment_replaces_the_callers_credentials() -> None:
    parent = {
        "PATH": "/bin",
        "AWS_PROFILE": "x",
        "AWS_SECURITY_TOKEN": "old",
        "AWS_SESSION_TOKEN": "old",
        "AWS_REGION": "us-east-1",
    }
    static = credential_variables(Credentials("AKIA", "s"), region=None, profile="p")
    child = child_environment(parent, static)

    assert child == {
        "PATH": "/bin",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWSRUN_PROFILE": "p",
    }
    temporary = credential_variables(
        Credentials("ASIA", "s", "t", 0), region="eu-west-1", profile="p"
    )
    assert (
        child_environment(parent, temporary)["AWS_CREDENTIAL_EXPIRATION"] == "1970-01-01T00:00:00Z"
    )
    assert child_environment(parent, temporary)["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_the_credential_process_document_is_json_for_any_value() -> None:
    odd = 'quote " backslash \\ tab \t é ✓'
    document = credential_process_document("AKIA", odd, odd, "2026-11-29T14:05:00Z")

    assert json.loads(document) == {
        "Version": 1,
        "AccessKeyId": "AKIA",
        "SecretAccessKey": odd,
        "SessionToken": odd,
        "Expiration": "2026-11-29T14:05:00Z",
    }
