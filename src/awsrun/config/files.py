"""The AWS CLI's config and credentials files, read as botocore reads them.

Pure: reads two files, imports nothing from boto3. The credentials file overrides the config
file key by key; each file's own sections are kept too, since botocore takes a profile's
keys from one file as a unit.
"""

from __future__ import annotations

import os
import stat

from awsrun.config.ini import IniError, parse_ini
from awsrun.errors import ConfigError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.config.chain import Root
    from awsrun.config.keyindex import StoredEntry


class ConfigFiles:
    """Both files as botocore sees them: `profiles` merged key by key (the credentials file
    over the config file), as every setting but the keys is read; each file's own sections,
    since botocore takes a profile's keys from one file as a unit; and the environment they
    were read in (endpoint variables, the default region)."""

    __slots__ = (
        "_default_session_name", "_stored_keys", "config_path", "config_sections",
        "credentials_path", "credentials_sections", "environ", "ignored_sections", "profiles",
        "roots", "services", "sso_sessions",
    )  # fmt: skip

    def __init__(
        self,
        config_path: str,
        credentials_path: str,
        profiles: Mapping[str, Mapping[str, str]],
        sso_sessions: Mapping[str, Mapping[str, str]],
        *,
        config_sections: Mapping[str, Mapping[str, str]] | None = None,
        credentials_sections: Mapping[str, Mapping[str, str]] | None = None,
        services: Mapping[str, Mapping[str, str]] | None = None,
        environ: Mapping[str, str] | None = None,
        ignored_sections: tuple[str, ...] = (),
    ) -> None:
        self.config_path = config_path
        self.credentials_path = credentials_path
        self.profiles = profiles
        self.sso_sessions = sso_sessions
        self.config_sections = profiles if config_sections is None else config_sections
        self.credentials_sections = credentials_sections or {}
        self.services = services or {}
        # A plain copy: os.environ encodes every key it is asked for, and `awsrun list`
        # asks a few for each of its profiles.
        self.environ = dict(environ or {})
        self._default_session_name: str | None = None
        self._stored_keys: dict[str, StoredEntry] | None = None
        self.roots: dict[str, Root] = {}  # resolved once per run, by profile name
        # Config-file sections botocore skips (`[prodaccess]` for `[profile prodaccess]`).
        self.ignored_sections = ignored_sections

    def describe(self) -> str:
        """Both files, for messages; one whose variable is set but empty is no file."""
        config = self.config_path or "(no config file)"
        credentials = self.credentials_path or "(no credentials file)"
        return f"{config} and {credentials}"

    @property
    def default_session_name(self) -> str:
        if self._default_session_name is None:
            from awsrun.config.chain import default_session_name

            self._default_session_name = default_session_name(self.environ)
        return self._default_session_name

    def stored_keys(self) -> dict[str, StoredEntry]:
        """The profiles with keys in awsrun's keystore, read from its index once per run (only
        when a profile has no credentials in the files)."""
        if self._stored_keys is None:
            from awsrun.config.keyindex import read_index

            self._stored_keys = read_index(self.environ)
        return self._stored_keys

    def path_of(self, profile: str, setting: str) -> str:
        """The file a profile's merged setting comes from, for messages."""
        if setting in self.credentials_sections.get(profile, {}):
            return self.credentials_path
        return self.config_path


def config_paths(environ: Mapping[str, str]) -> tuple[str, str]:
    # Set but empty means no file, as in botocore (os.path.isfile("") is false).
    config = environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    # awsrun --server hides the credentials file from the command's SDKs (keys there would
    # win over its endpoint), not from an awsrun inside the command.
    real_credentials = environ.get("AWSRUN_SHARED_CREDENTIALS_FILE")
    if real_credentials is not None and credentials == os.devnull:
        credentials = real_credentials
    return (
        os.path.expanduser(os.path.expandvars(config)),
        os.path.expanduser(os.path.expandvars(credentials)),
    )


def _read_ini(path: str, variable: str) -> dict[str, dict[str, str]]:
    if not path:
        return {}
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{path} is a folder, not a file: point {variable} at the file")
    if not stat.S_ISREG(st.st_mode):
        return {}  # botocore reads only regular files: /dev/null, a pipe are no file
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: it is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        sections = parse_ini(text, botocore_blocks=True)
    except IniError as error:
        # The message names the line by number only: a line of a credentials file can
        # hold a secret.
        raise ConfigError(f"cannot parse {path}: {error}; fix the file's INI syntax") from None
    return sections


def section_words(section: str) -> list[str]:
    """The words of a section name, as botocore splits them: with shlex, so that
    `[profile "my team"]` names the profile `my team`."""
    if "'" in section or '"' in section or "\\" in section:
        import shlex

        try:
            return shlex.split(section)
        except ValueError:  # an unclosed quote: botocore skips the section
            return []
    # Without quotes or backslashes shlex only splits at these four characters.
    if "\t" in section or "\r" in section or "\n" in section:
        section = section.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return [word for word in section.split(" ") if word]


def load_config_files(environ: Mapping[str, str]) -> ConfigFiles:
    """Both files as botocore reads them: in the config file `[default]` and
    `[profile NAME]` (any section starting with "profile" whose name is two words), a later
    section replacing an earlier one of the same name; then the credentials file's sections,
    by their plain names, overriding the config key by key."""
    config_path, credentials_path = config_paths(environ)
    config: dict[str, dict[str, str]] = {}
    sso_sessions: dict[str, dict[str, str]] = {}
    services: dict[str, dict[str, str]] = {}
    ignored: list[str] = []
    for section, values in _read_ini(config_path, "AWS_CONFIG_FILE").items():
        if section == "default":
            config["default"] = values
        elif (
            section.startswith(("profile", "sso-session", "services"))
            and len(words := section_words(section)) == 2
        ):
            if section.startswith("profile"):
                config[words[1]] = values
            elif section.startswith("sso-session"):
                sso_sessions[words[1]] = values
            else:
                services[words[1]] = values
        else:
            ignored.append(section)
    credentials = _read_ini(credentials_path, "AWS_SHARED_CREDENTIALS_FILE")
    profiles = dict(config)
    for section, values in credentials.items():
        profiles[section] = {**config[section], **values} if section in config else values
    return ConfigFiles(
        config_path,
        credentials_path,
        profiles,
        sso_sessions,
        config_sections=config,
        credentials_sections=credentials,
        services=services,
        environ=environ,
        ignored_sections=tuple(ignored),
    )


__all__ = ["ConfigFiles", "config_paths", "load_config_files", "section_words"]
