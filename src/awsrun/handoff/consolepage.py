"""The page the browser is handed instead of the console sign-in URL: a private file that
forwards to it. A browser's command line is readable by every local user (`ps -eo args`)
for as long as the browser runs; the file is 0600 in a 0700 folder of the user's own.
"""

from __future__ import annotations

import html
import os
import secrets
import time
from collections.abc import Mapping

from awsrun.errors import AwsrunError
from awsrun.privatefiles import make_private_folders, private_problem

# The browser reads the page as it starts; the sign-in token in it is good for 15 minutes.
# Pages older than this are removed by the next `awsrun console`.
PAGE_KEPT_SECONDS = 15 * 60


def page_folder(environ: Mapping[str, str], cache_folder: str) -> str:
    """The user's runtime folder (a tmpfs that logout empties) where there is one, else
    beside awsrun's cache."""
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    base = runtime if os.path.isabs(runtime) else os.path.dirname(cache_folder)
    return os.path.join(base, "awsrun-console")


def write_page(folder: str, url: str, *, now: float | None = None) -> str:
    """A page that forwards to `url`, written 0600 in `folder` (made 0700); its path."""
    try:
        make_private_folders(folder)
        problem = private_problem(os.lstat(folder), want_dir=True)
    except OSError as error:
        raise AwsrunError(_cannot(folder, error.strerror or "cannot be made")) from None
    if problem:
        raise AwsrunError(_cannot(folder, problem))
    _remove_old_pages(folder, time.time() if now is None else now)
    # The name is random, never derived from the token.
    path = os.path.join(folder, f"{secrets.token_hex(16)}.html")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as page:
        page.write(_page(url))
    return path


def _page(url: str) -> str:
    target = html.escape(url, quote=True)
    # no-referrer: the console must not receive this page's address, nor the sign-in URL.
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f'<meta http-equiv="refresh" content="0;url={target}">\n'
        "<title>awsrun: opening the AWS console</title></head>\n"
        f'<body><p><a href="{target}">Open the AWS console</a></p></body></html>\n'
    )


def _remove_old_pages(folder: str, now: float) -> None:
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.endswith(".html"):
            continue
        path = os.path.join(folder, name)
        try:
            if now - os.lstat(path).st_mtime > PAGE_KEPT_SECONDS:
                os.unlink(path)
        except OSError:
            continue


def _cannot(folder: str, why: str) -> str:
    return (
        f"cannot write the console page in {folder} ({why}): fix or remove that folder, or "
        "run 'awsrun console --print PROFILE' and open the URL it prints"
    )


__all__ = ["PAGE_KEPT_SECONDS", "page_folder", "write_page"]
