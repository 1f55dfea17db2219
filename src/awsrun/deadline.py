"""An overall deadline for a call to AWS: botocore's and urllib's timeouts are per read, so
an endpoint that sends a byte now and then would hold a run (and its lock) for ever."""

from __future__ import annotations

import threading

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    Result = TypeVar("Result")


class DeadlinePassed(Exception):
    """The call did not end in time; it is left to finish in a thread nobody waits for."""


def call_within(seconds: float, work: Callable[[], Result]) -> Result:
    """`work()`'s result or exception, or DeadlinePassed after `seconds`."""
    outcome: list[Result] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the caller's thread as it is
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True, name="awsrun-call")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise DeadlinePassed
    if failure:
        raise failure[0]
    return outcome[0]


__all__ = ["DeadlinePassed", "call_within"]
