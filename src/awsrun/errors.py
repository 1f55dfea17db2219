"""awsrun's errors: each carries the exit status the CLI turns it into."""

from __future__ import annotations

# Like env(1): 125 is awsrun's own failure, 126/127 belong to the command it was asked to run.
EXIT_AWSRUN_FAILED = 125
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


class AwsrunError(Exception):
    """A failure of awsrun itself. Its text is one line for the user: what failed, what to do."""

    exit_code = EXIT_AWSRUN_FAILED


class UsageError(AwsrunError):
    """The command line cannot be understood."""


class ConfigError(AwsrunError):
    """The AWS config or credentials files do not describe usable credentials for the profile."""


class StsError(AwsrunError):
    """STS (or another credential provider boto3 uses) refused or could not be reached."""


class MfaError(AwsrunError):
    """No MFA code could be had."""


class LockTimeout(AwsrunError, TimeoutError):
    """Another awsrun held a cache entry's lock for longer than the bound."""


class CommandNotFound(AwsrunError):
    exit_code = EXIT_NOT_FOUND


class CommandNotExecutable(AwsrunError):
    exit_code = EXIT_NOT_EXECUTABLE


__all__ = [
    "EXIT_AWSRUN_FAILED",
    "EXIT_NOT_EXECUTABLE",
    "EXIT_NOT_FOUND",
    "AwsrunError",
    "CommandNotExecutable",
    "CommandNotFound",
    "ConfigError",
    "LockTimeout",
    "MfaError",
    "StsError",
    "UsageError",
]
