"""Variables awsrun sets in its own environment for the programs that resolve credentials
for it, kept from every other program it starts (a browser, an `mfa_process`). On the
cache-hit path: imports only awsrun.errors."""

from __future__ import annotations

import os

from awsrun.errors import ConfigError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import TypeVar

    Result = TypeVar("Result")

# Set for the credential_process that boto3 runs, so an awsrun inside it sees the profiles
# already being resolved this way and stops a loop instead of recursing.
RESOLVING_VARIABLE = "AWSRUN_CREDENTIAL_PROCESS_STACK"
INTERNAL_VARIABLES = (RESOLVING_VARIABLE,)


def enter_resolving(profile: str, environ: MutableMapping[str, str]) -> str | None:
    """Put `profile` on the stack of profiles being resolved; the stack before it.

    On every path that resolves a profile, so that a credential_process that runs awsrun for
    the same profile again stops at once instead of waiting for the lock this run holds."""
    outer = environ.get(RESOLVING_VARIABLE)
    stack = [name for name in (outer or "").split("\n") if name]
    if profile in stack:
        loop = " -> ".join([*stack, profile])
        raise ConfigError(
            f"credential_process loop: {loop}; a profile's credential_process must not run "
            "`awsrun credential-process` for itself (point it at the role profile instead)"
        )
    environ[RESOLVING_VARIABLE] = "\n".join([*stack, profile])
    return outer


def leave_resolving(outer: str | None, environ: MutableMapping[str, str]) -> None:
    """Put back the stack `enter_resolving` found: the command resolves nothing."""
    if outer is None:
        environ.pop(RESOLVING_VARIABLE, None)
    else:
        environ[RESOLVING_VARIABLE] = outer


def helper_environment() -> dict[str, str]:
    """awsrun's environment less its internal variables, for a program started with an
    environment of its own."""
    return {k: v for k, v in os.environ.items() if k not in INTERNAL_VARIABLES}


def without_internal_variables(work: Callable[[], Result]) -> Result:
    """`work()`, for a library that starts programs with os.environ (webbrowser), with the
    internal variables out of os.environ meanwhile."""
    saved = {name: os.environ.pop(name) for name in INTERNAL_VARIABLES if name in os.environ}
    try:
        return work()
    finally:
        os.environ.update(saved)


__all__ = [
    "INTERNAL_VARIABLES",
    "RESOLVING_VARIABLE",
    "enter_resolving",
    "helper_environment",
    "leave_resolving",
    "without_internal_variables",
]
