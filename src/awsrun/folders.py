"""awsrun's own folders: the cache (temporary credentials, which may go at any time) and the
data folder (what must stay: the index of stored keys, the encrypted key file).

On Linux the XDG rules are spelled out here, because importing platformdirs costs a cache
hit about as much as the rest of the run; a test checks that both give the same folders.
"""

from __future__ import annotations

import os
import sys

from awsrun.errors import ConfigError

TYPE_CHECKING = False  # annotations only: `typing` and these imports stay off the hit path
if TYPE_CHECKING:
    from collections.abc import Mapping


def cache_dir(environ: Mapping[str, str]) -> str:
    """AWSRUN_CACHE_DIR, else platformdirs' user cache folder for awsrun."""
    return _folder(environ, "AWSRUN_CACHE_DIR", "XDG_CACHE_HOME", "~/.cache", "cache")


def data_dir(environ: Mapping[str, str]) -> str:
    """AWSRUN_DATA_DIR, else platformdirs' user data folder for awsrun."""
    return _folder(environ, "AWSRUN_DATA_DIR", "XDG_DATA_HOME", "~/.local/share", "data")


def _folder(environ: Mapping[str, str], own: str, xdg: str, default: str, kind: str) -> str:
    configured = environ.get(own)
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    if sys.platform == "linux":
        # A relative XDG_*_HOME is ignored, as the specification says.
        base = environ.get(xdg, "").strip()
        if not os.path.isabs(base):
            base = os.path.expanduser(default)
        if not os.path.isabs(base):  # no HOME and no passwd entry: `~` stays as it is
            raise ConfigError(
                f"awsrun cannot find your home folder for its {kind} (HOME is not set): "
                f"set HOME, {xdg} or {own}"
            )
        return os.path.join(base, "awsrun")
    import platformdirs

    if kind == "cache":
        return platformdirs.user_cache_dir("awsrun", appauthor=False)
    return platformdirs.user_data_dir("awsrun", appauthor=False)


__all__ = ["cache_dir", "data_dir"]
