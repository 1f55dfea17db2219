"""Where an MFA code comes from: --mfa-code, the profile's `mfa_process`, or a prompt on the
terminal. With none of them, fail at once: a run in CI must never hang on a prompt."""

from __future__ import annotations

from awsrun.errors import MfaError

_PROCESS_TIMEOUT_SECONDS = 60


def _from_process(command: str, serial: str) -> str:
    import shlex
    import subprocess

    try:
        finished = subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            check=False,
            timeout=_PROCESS_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise MfaError(f"mfa_process {command!r} for {serial} did not run: {error}") from None
    if finished.returncode != 0:
        raise MfaError(
            f"mfa_process {command!r} for {serial} exited {finished.returncode}; "
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
    os.write(tty, f"MFA code for {serial} ({profile}): ".encode())
    with os.fdopen(tty, "r", encoding="utf-8", errors="replace") as reader:
        answer = reader.readline()
    if not answer:
        raise MfaError(f"no MFA code was typed for {serial}")
    return answer.strip()


def mfa_code(serial: str, *, profile: str, given: str | None, process: str | None) -> str:
    """A code for the device `serial`, from the first source that has one."""
    if given:
        code = given.strip()
    elif process:
        code = _from_process(process, serial)
    else:
        code = _from_terminal(serial, profile)
    if not (code.isdigit() and len(code) == 6):
        # Never echo what was given: it is a secret, even when it is a wrong one.
        raise MfaError(f"the MFA code for {serial} must be 6 digits")
    return code


__all__ = ["mfa_code"]
