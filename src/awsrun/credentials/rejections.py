"""The line for credentials STS refused as the source of the next step: where they came
from, and what to do there (a cached step is dropped and fetched again; keys in a file or
a store are the user's to replace)."""

from __future__ import annotations

from awsrun.config.chain import StaticKeys, StoredKeys
from awsrun.credentials.sts import SourceRejected

TYPE_CHECKING = False
if TYPE_CHECKING:
    from awsrun.config.chain import Chain


def explained(rejected: SourceRejected, chain: Chain, cached_source: str | None) -> SourceRejected:
    """`rejected`, said for `chain`; `cached_source`: the label of the refused step when it
    came from awsrun's cache, else None (the root's keys)."""
    if not rejected.detail:
        return rejected
    root = chain.root
    if cached_source is not None:
        return SourceRejected(
            f"STS refused the cached {cached_source} ({rejected.detail}); awsrun dropped "
            f"them: run the same awsrun command for {chain.profile!r} again"
        )
    if isinstance(root, StoredKeys):
        return SourceRejected(
            f"STS refused the keys stored for profile {root.profile!r} in the "
            f"{root.backend} store ({rejected.detail}): they are wrong, deleted or "
            f"inactive; `awsrun remove {root.profile}`, then `awsrun add {root.profile}` "
            "with working keys"
        )
    if isinstance(root, StaticKeys):
        path = chain.files.path_of(root.profile, "aws_access_key_id")
        return SourceRejected(
            f"STS refused the keys of profile {root.profile!r} in {path} "
            f"({rejected.detail}): they are wrong, deleted or inactive; put working keys "
            "there (awsrun --refresh cannot help keys from a file)"
        )
    return rejected


__all__ = ["explained"]
