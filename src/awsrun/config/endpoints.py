"""Where a profile's calls go: the region botocore's session would use, and the endpoint URL
configured for a service. Pure.
"""

from __future__ import annotations

from awsrun.errors import ConfigError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.config.files import ConfigFiles


_REGION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


# Set beside AWS_REGION and AWS_DEFAULT_REGION when awsrun chose the region (from a profile or
# --region), so that an awsrun inside the command, or a second `eval "$(awsrun env ...)"`,
# tells the region an outer awsrun set from one the user set.
REGION_MARKER = "AWSRUN_REGION"


def region_set_by_awsrun(environ: Mapping[str, str]) -> bool:
    """AWS_DEFAULT_REGION holds the region an outer awsrun set, not one the user chose."""
    region = environ.get("AWS_DEFAULT_REGION")
    return region is not None and region == environ.get(REGION_MARKER)


def choose_region(
    files: ConfigFiles, profile: str, override: str | None = None
) -> tuple[str | None, str]:
    """The region of botocore's session for the profile, which signs every STS call of the
    chain and is the command's, and where it came from: `--region` (as the AWS CLI's own),
    else AWS_DEFAULT_REGION unless an outer awsrun set it, else the named profile's
    `region`. botocore reads no AWS_REGION."""
    environ = files.environ
    region = environ.get("AWS_DEFAULT_REGION")
    if override:
        region, source = override, "--region"
    elif region is not None and not region_set_by_awsrun(environ):
        source = "AWS_DEFAULT_REGION"
        if not region.strip():  # botocore builds the URL `https://sts..amazonaws.com`
            raise ConfigError("AWS_DEFAULT_REGION is set but empty: unset it, or give it a region")
    else:
        region = files.profiles.get(profile, {}).get("region") or None
        source = f"the region of profile {profile!r}"
        if environ.get("AWS_DEFAULT_REGION") is not None:
            source += " (AWS_DEFAULT_REGION is the one an outer awsrun set)"
    # A region goes into a URL and into the command's environment: letters, digits, dashes.
    if region is not None and not _REGION_CHARACTERS.issuperset(region):
        raise ConfigError(f"{source} is {region!r}, not a region name: write one such as eu-west-1")
    return region, source


def sts_endpoint(files: ConfigFiles, profile: str) -> str | None:
    """The STS endpoint URL configured for the profile (see service_endpoint)."""
    return service_endpoint(files, profile, "sts")


def service_endpoint(files: ConfigFiles, profile: str, service: str) -> str | None:
    """The endpoint URL configured for `service` (`sts`, `sso`) in the profile, in
    botocore's order: the service's variable, the global one, the profile's `services`
    section, its `endpoint_url`; none when configured endpoints are turned off."""
    environ = files.environ
    settings = files.profiles.get(profile, {})
    ignore = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    if ignore is None:
        ignore = settings.get("ignore_configured_endpoint_urls", "")
    if ignore.lower() == "true":
        return None
    configured = None
    section_name = settings.get("services")
    if section_name is not None:
        section = files.services.get(section_name)
        if not section:
            raise ConfigError(
                f"profile {profile!r} names services = {section_name!r}, but "
                f"{files.config_path} has no [services {section_name}] section"
            )
        configured = _nested(section.get(service, "")).get("endpoint_url")
    return (
        environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        or environ.get("AWS_ENDPOINT_URL")
        or configured
        or settings.get("endpoint_url")
        or None
    )


def _nested(value: str) -> dict[str, str]:
    """An indented block of `key = value` lines, as botocore reads one (its syntax was
    checked when the file was read)."""
    pairs = (line.split("=", 1) for line in value.split("\n") if line.strip())
    return {key.strip(): rest.strip() for key, rest in pairs}


__all__ = [
    "REGION_MARKER",
    "choose_region",
    "region_set_by_awsrun",
    "service_endpoint",
    "sts_endpoint",
]
