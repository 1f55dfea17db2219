"""The user's web browser, for an SSO sign-in page and the AWS console."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def browser_problem() -> str | None:
    """Why BROWSER cannot open anything, or None: webbrowser would otherwise quietly fall
    back to whatever it finds (a text browser drawing in this terminal, say)."""
    import shlex
    import shutil

    setting = os.environ.get("BROWSER")
    if not setting:
        return None
    for entry in setting.split(os.pathsep):
        try:
            words = shlex.split(entry)
        except ValueError:
            continue
        if words and (shutil.which(words[0]) or os.access(words[0], os.X_OK)):
            return None
    return f"BROWSER={setting!r} names no program that can be run"


def browser_opener() -> Callable[[str], bool] | None:
    """webbrowser.open (which honours BROWSER), or None where no browser can be shown.

    On Linux with no display and no BROWSER (a server, a container, an SSH session),
    webbrowser would fall back to a text browser in the same terminal, or to nothing.
    """
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform == "linux" and no_display and not os.environ.get("BROWSER"):
        return None
    import webbrowser

    def open_url(url: str) -> bool:
        from awsrun.internal import without_internal_variables

        return without_internal_variables(lambda: webbrowser.open(url))

    return open_url


__all__ = ["browser_opener", "browser_problem"]
