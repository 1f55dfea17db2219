"""Where an MFA code comes from: --mfa-code, the profile's `mfa_process`, or a prompt on the
terminal. With none of them, fail at once: a run in CI must never hang on a prompt."""

from __future__ import annotations

from awsrun.errors import MfaError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from typing import TextIO

_PROCESS_TIMEOUT_SECONDS = 60
# A mistyped code at the prompt is asked for again, this many times in all.
_TERMINAL_ATTEMPTS = 3


def _from_process(command: str, serial: str) -> str:
    import os
    import shlex
    import subprocess

    from awsrun.internal import helper_environment

    # Only the program is named in a message: the arguments may hold a TOTP seed.
    try:
        argv = shlex.split(command)
    except ValueError:
        raise MfaError(
            f"mfa_process for {serial} cannot be split into words (check its quotes)"
        ) from None
    program = os.path.basename(argv[0]) if argv else "(empty)"
    try:
        finished = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            timeout=_PROCESS_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            env=helper_environment(),
        )
    except subprocess.TimeoutExpired:
        raise MfaError(
            f"mfa_process ({program}) for {serial} did not answer within "
            f"{_PROCESS_TIMEOUT_SECONDS}s"
        ) from None
    except (OSError, ValueError) as error:
        why = getattr(error, "strerror", None) or type(error).__name__
        raise MfaError(f"mfa_process ({program}) for {serial} did not run: {why}") from None
    if finished.returncode != 0:
        raise MfaError(
            f"mfa_process ({program}) for {serial} exited {finished.returncode}; "
            "run it by hand to see why"
        )
    return finished.stdout.strip()


def _from_terminal(serial: str, profile: str) -> str:
    import os

    try:
        # /dev/tty, not stdin/stdout: those may be a pipe (`awsrun p -- cmd | tee log`)
        # or captured by an SDK running `awsrun credential-process`.
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise MfaError(
            f"profile {profile!r} needs an MFA code for {serial} and there is no terminal to "
            "ask on: pass --mfa-code CODE, or set mfa_process in the profile"
        ) from None
    from awsrun.credentials.locks import asking_the_user

    # A terminal is not seekable: a reader for its input, plain writes for the prompt.
    with (
        os.fdopen(tty, "r", encoding="utf-8", errors="replace") as reader,
        asking_the_user("mfa-prompt"),
    ):
        try:
            return _ask(tty, reader, serial, profile)
        except KeyboardInterrupt:
            os.write(tty, b"\n")  # the shell's prompt on a line of its own
            raise


def _ask(tty: int, reader: TextIO, serial: str, profile: str) -> str:
    import os

    for attempt in range(_TERMINAL_ATTEMPTS):
        if attempt:
            os.write(tty, b"That is not 6 digits; try again.\n")
        os.write(tty, f"MFA code for {serial} ({profile}): ".encode())
        answer = reader.readline()
        if not answer:  # Ctrl-D: the line is the prompt's still
            os.write(tty, b"\n")
            raise MfaError(f"no MFA code was typed for {serial}")
        code = _normalized(answer)
        if _well_formed(code):
            return code
    raise MfaError(f"the MFA code for {serial} must be 6 digits ({_TERMINAL_ATTEMPTS} tries)")


def _normalized(code: str) -> str:
    """`123 456`, as authenticator apps show codes, is `123456`."""
    return "".join(code.split())


def _well_formed(code: str) -> bool:
    return code.isdigit() and len(code) == 6 and code.isascii()


def mfa_code(serial: str, *, profile: str, given: str | None, process: str | None) -> str:
    """A code for the device `serial`, from the first source that has one."""
    if given:
        code = _normalized(given)
    elif process:
        code = _normalized(_from_process(process, serial))
    else:
        code = _from_terminal(serial, profile)
    if not _well_formed(code):
        # Never echo what was given: it is a secret, even when it is a wrong one.
        raise MfaError(f"the MFA code for {serial} must be 6 digits")
    return code


__all__ = ["mfa_code"]
