"""awsrun.config: the two files merged as botocore merges them, and how a profile resolves
to a chain (roles, sources, credential_source, boto3's own kinds) or to an error that
says what to fix. Pure: files in tmp_path, no server."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from awsrun.config.chain import Boto3Profile, CredentialSource, StaticKeys
from awsrun.config.files import ConfigFiles, load_config_files
from awsrun.config.resolve import resolve_chain
from awsrun.errors import ConfigError

KEYS = {"aws_access_key_id": "AKIAROOT", "aws_secret_access_key": "s3cr3t"}


def files(profiles: Mapping[str, Mapping[str, str]]) -> ConfigFiles:
    return ConfigFiles("config", "credentials", profiles, {})


def test_files_merge_like_the_aws_cli(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        "[default]\nregion = eu-west-1\n"
        "[profile prod]\nrole_arn = arn:r\nsource_profile = default\n"
        "region = us-east-1\n[sso-session corp]\nsso_start_url = https://x\n[junk]\na = b\n"
    )
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n"
        "[prod]\nregion = us-west-2\n"
    )
    loaded = load_config_files(
        {
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        }
    )

    assert loaded.profiles["default"] == {
        "region": "eu-west-1",
        "aws_access_key_id": "AKIA1",
        "aws_secret_access_key": "s",
    }
    assert loaded.profiles["prod"]["region"] == "us-west-2"  # the credentials file wins
    assert "junk" not in loaded.profiles
    assert loaded.sso_sessions == {"corp": {"sso_start_url": "https://x"}}


def test_duplicate_sections_are_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[default]\na = 1\n[default]\nb = 2\n")
    with pytest.raises(ConfigError, match=r"config: section .default. appears twice at line 3"):
        load_config_files(
            {
                "AWS_CONFIG_FILE": str(tmp_path / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            }
        )


def test_chain_of_roles_down_to_static_keys() -> None:
    chain = resolve_chain(
        "c",
        files(
            {
                "c": {"role_arn": "arn:c", "source_profile": "b", "region": "eu-west-1"},
                "b": {"role_arn": "arn:b", "source_profile": "a", "external_id": "x"},
                "a": {**KEYS, "mfa_serial": "arn:mfa"},
            }
        ),
    )

    assert [hop.role_arn for hop in chain.hops] == ["arn:b", "arn:c"]
    assert isinstance(chain.root, StaticKeys)
    assert chain.root.profile == "a"
    assert chain.hops[0].external_id == "x"
    assert chain.mfa_serial == "arn:mfa"
    assert chain.region == "eu-west-1"


def test_named_role_wins_over_its_static_keys_but_a_source_keeps_its_keys() -> None:
    profiles = {
        "top": {"role_arn": "arn:top", "source_profile": "src", **KEYS},
        "src": {"role_arn": "arn:ignored", "source_profile": "top", **KEYS},
    }
    chain = resolve_chain("top", files(profiles))

    assert [hop.role_arn for hop in chain.hops] == ["arn:top"]
    assert isinstance(chain.root, StaticKeys)
    assert chain.root.profile == "src"


def test_a_role_may_source_its_own_keys() -> None:
    chain = resolve_chain(
        "self", files({"self": {"role_arn": "arn:s", "source_profile": "self", **KEYS}})
    )

    assert isinstance(chain.root, StaticKeys)
    assert len(chain.hops) == 1


def test_credential_source_and_boto3_profiles() -> None:
    chain = resolve_chain(
        "ec2", files({"ec2": {"role_arn": "arn:e", "credential_source": "Ec2InstanceMetadata"}})
    )
    sso = resolve_chain("sso", files({"sso": {"sso_session": "corp", "sso_account_id": "1"}}))
    web = resolve_chain(
        "web", files({"web": {"role_arn": "arn:w", "web_identity_token_file": "/t"}})
    )

    assert isinstance(chain.root, CredentialSource)
    assert (chain.root.profile, chain.root.source) == ("ec2", "Ec2InstanceMetadata")
    assert isinstance(sso.root, Boto3Profile)
    assert sso.root.kind == "sso"
    assert isinstance(web.root, Boto3Profile)
    assert web.root.kind == "web-identity"
    assert web.hops == ()


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        (
            {
                "a": {"role_arn": "arn:a", "source_profile": "b"},
                "b": {"role_arn": "arn:b", "source_profile": "a"},
            },
            "a -> b -> a",
        ),
        ({"a": {"role_arn": "arn:a"}}, "no source_profile or credential_source"),
        ({"a": {"role_arn": "arn:a", "source_profile": "gone"}}, "'gone'"),
        (
            {
                "a": {
                    "role_arn": "arn:a",
                    "source_profile": "b",
                    "credential_source": "Environment",
                },
                "b": KEYS,
            },
            "both",
        ),
        ({"a": {"role_arn": "arn:a", "credential_source": "Moon"}}, "Moon"),
        ({"a": {"region": "eu-west-1"}}, "no credentials"),
        ({"a": {"aws_access_key_id": "AKIA"}}, "aws_secret_access_key"),
        ({"a": {"role_arn": "arn:a", "source_profile": "a"}}, "names itself"),
    ],
)
def test_broken_profiles_are_config_errors(
    profiles: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as raised:
        resolve_chain("a", files(profiles))
    assert "s3cr3t" not in str(raised.value)


def test_unknown_profile_suggests_close_names() -> None:
    with pytest.raises(ConfigError, match="did you mean prod"):
        resolve_chain("prdo", files({"prod": KEYS, "dev": KEYS}))


def test_default_session_name_is_the_user_in_the_characters_sts_allows() -> None:
    from awsrun.config.chain import default_session_name

    assert default_session_name({"LOGNAME": "ann", "USER": "bob"}) == "awsrun-ann"
    assert default_session_name({"USER": "josé smith/x"}) == "awsrun-jos--smith-x"
    assert len(default_session_name({"USER": "u" * 100})) == 64
