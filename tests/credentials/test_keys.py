"""awsrun.credentials.keys and federation's pure parts: timestamps in UTC, secrets kept out
of every repr, and console hosts that stay in the credentials' partition."""

from __future__ import annotations

import pytest

from awsrun.config.chain import StaticKeys
from awsrun.credentials.keys import Credentials, iso_utc, parse_iso
from awsrun.credentials.options import Options
from awsrun.errors import UsageError


def test_iso_times_are_utc_with_an_offset() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert parse_iso("1970-01-01T01:00:00+01:00") == 0
    assert parse_iso("1970-01-01T00:00:10Z") == 10


def test_secrets_stay_out_of_reprs() -> None:
    text = (
        repr(Credentials("AKIA", "s3cr3tvalue", "t0kenvalue", 0))
        + repr(StaticKeys("p", "AKIA", "s3cr3tvalue", "t0kenvalue", None, None))
        + repr(Options(mfa_code="123456"))
    )
    assert "s3cr3tvalue" not in text
    assert "t0kenvalue" not in text
    assert "123456" not in text


def test_federation_hosts_follow_the_partition_and_destinations_stay_in_it() -> None:
    from awsrun.credentials.federation import (
        console_destination,
        federation_endpoint,
        partition_of_arn,
        partition_of_region,
    )
    from awsrun.errors import StsError

    assert [federation_endpoint(name, {}) for name in ("aws", "aws-cn", "aws-us-gov")] == [
        "https://signin.aws.amazon.com/federation",
        "https://signin.amazonaws.cn/federation",
        "https://signin.amazonaws-us-gov.com/federation",
    ]
    with pytest.raises(StsError, match="AWSRUN_FEDERATION_ENDPOINT"):
        federation_endpoint("aws-iso", {})
    with pytest.raises(UsageError, match="give its URL with --destination"):
        console_destination("aws-iso", "us-iso-east-1", None, None)
    elsewhere = "https://console.example.gov/home"
    assert console_destination("aws-iso", None, None, elsewhere) == elsewhere
    with pytest.raises(UsageError, match="https://"):
        federation_endpoint("aws", {"AWSRUN_FEDERATION_ENDPOINT": "file:///etc/passwd"})
    assert partition_of_arn("arn:aws-us-gov:iam::123456789012:role/Ops") == "aws-us-gov"
    assert partition_of_arn("not-an-arn") is None
    assert [partition_of_region(name) for name in ("cn-north-1", "eu-west-1", None)] == [
        "aws-cn",
        "aws",
        "aws",
    ]
    assert (
        console_destination("aws-cn", None, "ec2", None) == "https://console.amazonaws.cn/ec2/home"
    )
    inside = "https://eu-west-1.console.aws.amazon.com/s3/buckets?region=eu-west-1"
    assert console_destination("aws", "eu-west-1", None, inside) == inside
    for outside in (
        "https://console.aws.amazon.com.example.com/",
        "http://console.aws.amazon.com/",
        "https://console.amazonaws.cn/",
    ):
        with pytest.raises(UsageError, match="--destination"):
            console_destination("aws", None, None, outside)
