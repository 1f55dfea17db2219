"""Every account and role an IAM Identity Center session may use: `sso:ListAccounts` (paged),
then `sso:ListAccountRoles` for each account, a bounded number of calls in flight.

The portal throttles a client that asks too much at once: a throttled or failed call is
tried again after a pause that doubles (with jitter), up to a limit, and the whole listing
ends by one deadline. A listing that still fails is one line, and nothing is written.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from awsrun.errors import StsError

IN_FLIGHT = 8  # calls at once: fast for a large organisation, gentle on the portal
_ATTEMPTS = 8
_DEADLINE_SECONDS = 300
_RETRIED = ("TooManyRequestsException", "ThrottlingException", "InternalServerException")


class AccountRole:
    __slots__ = ("account_id", "account_name", "role_name")

    def __init__(self, account_id: str, account_name: str, role_name: str) -> None:
        self.account_id = account_id
        self.account_name = account_name
        self.role_name = role_name

    def __repr__(self) -> str:
        return f"AccountRole({self.account_id!r}, {self.account_name!r}, {self.role_name!r})"


def list_account_roles(
    access_token: str,
    region: str,
    *,
    endpoint: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[AccountRole], int]:
    """Every (account, role) of the session whose `access_token` is given, sorted; and the
    number of accounts. `endpoint`: the portal's configured for the profile in use (None:
    botocore's). `progress` is told how far the listing is, now and then."""
    import botocore.session

    from awsrun.credentials.sts import CLIENT_CONFIG

    client: Any = botocore.session.Session().create_client(
        "sso",
        region_name=region,
        endpoint_url=endpoint,
        config=CLIENT_CONFIG.merge(_no_retries()),
    )
    ends = time.monotonic() + _DEADLINE_SECONDS
    accounts: list[dict[str, str]] = []
    for page in _pages(client.list_accounts, "accountList", ends, accessToken=access_token):
        accounts += page
    done = 0
    lock = threading.Lock()

    def roles_of(account: dict[str, str]) -> list[AccountRole]:
        nonlocal done
        found = [
            AccountRole(account["accountId"], account.get("accountName", ""), role["roleName"])
            for page in _pages(
                client.list_account_roles,
                "roleList",
                ends,
                accessToken=access_token,
                accountId=account["accountId"],
            )
            for role in page
        ]
        with lock:
            done += 1
            if progress is not None:
                progress(f"{done}/{len(accounts)} accounts")
        return found

    with ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="awsrun-sso") as pool:
        listed = [role for roles in pool.map(roles_of, accounts) for role in roles]
    listed.sort(key=lambda found: (found.account_name, found.account_id, found.role_name))
    return listed, len(accounts)


def _pages(
    call: Callable[..., Any], key: str, ends: float, **arguments: str
) -> list[list[dict[str, str]]]:
    pages = []
    token = None
    while True:
        page = _with_retries(call, ends, **arguments, **({"nextToken": token} if token else {}))
        pages.append(list(page.get(key, [])))
        token = page.get("nextToken")
        if not token:
            return pages


def _with_retries(call: Callable[..., Any], ends: float, **arguments: str) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    reason = ""
    for attempt in range(_ATTEMPTS):
        try:
            return call(**arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code == "UnauthorizedException":
                raise StsError(
                    "IAM Identity Center refused the session's token (signed out, or "
                    "expired): run `awsrun login` for it"
                ) from None
            if code not in _RETRIED and status < 500:
                raise StsError(f"IAM Identity Center refused the listing: {code}") from None
            reason = code or f"HTTP {status}"
        except BotoCoreError as error:
            reason = type(error).__name__
        pause = min(2.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        if time.monotonic() + pause > ends or attempt == _ATTEMPTS - 1:
            break
        time.sleep(pause)
    raise StsError(
        f"IAM Identity Center kept failing the listing ({reason}, {_ATTEMPTS} tries): "
        "nothing was written; try again later"
    )


def terminal_progress(label: str) -> Callable[[str], None] | None:
    """A progress line on a terminal (stderr), redrawn at most every quarter second and
    shown only once the listing has taken a second; None where stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()
    last = [0.0]

    def show(state: str) -> None:
        now = time.monotonic()
        if now - started > 1 and now - last[0] > 0.25:
            last[0] = now
            sys.stderr.write(f"\rawsrun: {label}: {state}\033[K")
            sys.stderr.flush()

    return show


def _no_retries() -> Any:
    from botocore.config import Config

    # awsrun retries a throttled call itself, with its own pauses and deadline.
    return Config(retries={"max_attempts": 1, "mode": "standard"})


__all__ = ["IN_FLIGHT", "AccountRole", "list_account_roles", "terminal_progress"]
