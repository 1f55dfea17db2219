"""Variables awsrun sets in its own environment for the programs that resolve credentials
for it, kept from every other program it starts (a browser, an `mfa_process`). On the
cache-hit path: imports nothing."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # as in broker.py: imports for annotations stay off the cache-hit path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    Result = TypeVar("Result")

# Set for the credential_process that boto3 runs, so an awsrun inside it sees the profiles
# already being resolved this way and stops a loop instead of recursing.
RESOLVING_VARIABLE = "AWSRUN_CREDENTIAL_PROCESS_STACK"
INTERNAL_VARIABLES = (RESOLVING_VARIABLE,)


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
    "helper_environment",
    "without_internal_variables",
]
