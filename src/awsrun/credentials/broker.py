"""Credentials for a resolved chain: from the cache while they are fresh, else from STS,
one process at a time per cache entry.

A chain is a list of steps, root first: the root's keys, an MFA session (GetSessionToken)
when the long-term keys need one, then one AssumeRole per role. A step that issues
temporary credentials is a cache entry of its own, so an MFA session or an intermediate
role is shared by every profile built on it, and a source is fetched only when the step
above it misses.
"""

from __future__ import annotations

import time

from awsrun.config.chain import (
    Boto3Profile,
    Chain,
    CredentialSource,
    RoleHop,
    StaticKeys,
    StoredKeys,
)
from awsrun.config.endpoints import choose_region
from awsrun.credentials.cache import Cache, CachedEntry, entry_key
from awsrun.credentials.keys import Credentials
from awsrun.durations import format_duration, format_durations
from awsrun.report import Reporter

# Importing `typing` costs a cache hit more than this whole module, and `collections.abc`
# loads `collections`; mypy and pyright treat any constant named TYPE_CHECKING as typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from awsrun.config.chain import Identity
    from awsrun.credentials.options import Options
    from awsrun.credentials.session_end import SessionEnd
    from awsrun.credentials.sts import Sts


# A source only has to sign the next call, not last through the command.
SOURCE_MIN_TTL_SECONDS = 5 * 60


class _Step:
    __slots__ = (
        "fetch", "holds", "identity", "label", "note", "renewed_by_refresh", "slow_because",
    )  # fmt: skip

    def __init__(
        self,
        label: str,
        # What decides which credentials these are; None for a step that is not cached
        # (keys already in a file or in the environment).
        identity: Identity | None,
        fetch: Callable[[Credentials | None], Credentials],
        *,
        # --refresh renews every step but an MFA session, which would need a new code.
        renewed_by_refresh: bool = True,
        # What -v says of a step that is not cached.
        note: str = "",
        # Why another run may hold this step's lock for long, for the line a waiter says.
        slow_because: str = "an MFA prompt in another terminal?",
        # What its cache entry says it holds, for people (`awsrun clear --all`).
        holds: str | None = None,
    ) -> None:
        self.label = label
        self.note = note
        self.slow_because = slow_because
        self.holds = holds
        self.identity = identity
        self.fetch = fetch
        self.renewed_by_refresh = renewed_by_refresh


class Broker:
    def __init__(
        self,
        chain: Chain,
        options: Options,
        *,
        cache: Cache | None,
        reporter: Reporter,
        environ: Mapping[str, str],
        now: Callable[[], float] = time.time,
        sts: Sts | None = None,
    ) -> None:
        self._chain = chain
        self._options = options
        self._cache = cache
        self._reporter = reporter
        self._environ = environ
        self._now = now
        self._started = now()
        self._sts_client = sts
        # The region that signs every STS call of the chain, and the command's.
        self.region, self.region_source = choose_region(chain.files, chain.profile, options.region)
        self._steps = self._plan()
        # The session behind the profile that only the user can renew, once known.
        self.session_end: SessionEnd | None = None
        self._renewing: int | None = None  # the step renew_mfa_session fetches anew
        self._said_session_end = False

    def credentials(self) -> Credentials:
        credentials = self._obtain(len(self._steps) - 1)
        if self._chain.mfa_serial is not None:  # a stat; other chains load nothing more
            from awsrun.credentials.session_end import mfa_session_end

            mfa_step = self._steps[1]  # after the root
            self.session_end = mfa_session_end(
                self._chain, mfa_step.identity, self._cache, self._now()
            )
        line = self.session_end and self.session_end.ending_soon(self._chain.profile, self._now())
        if line and not self._said_session_end:
            self._said_session_end = True  # once, not at each refresh of --server
            self._reporter.warn(line)
        return credentials

    def renew_mfa_session(self) -> Credentials:
        """`awsrun login` of an MFA profile: a new MFA session now, its code asked for,
        whatever the cache holds."""
        self._renewing = 1  # the step after the root
        return self._obtain(1)

    # -- the plan -----------------------------------------------------------------------

    def _plan(self) -> list[_Step]:
        chain = self._chain
        root = chain.root
        options = self._options
        identities = chain.identities(
            session_name=options.session_name,
            duration=options.duration,
            no_session=options.no_session,
        )
        steps = [self._root_step(identities[0])]
        serial = chain.mfa_serial
        if serial is not None:
            assert isinstance(root, StaticKeys)
            steps.append(
                _Step(
                    f"MFA session of {root.profile!r} ({serial})",
                    identities[len(steps)],
                    lambda signer: self._session(signer, root, serial),
                    renewed_by_refresh=False,
                    holds=chain.mfa_session_name,
                )
            )
        elif chain.session_for_stored_keys(no_session=options.no_session):
            assert isinstance(root, StoredKeys)
            steps.append(
                _Step(
                    f"session of the stored keys of {root.profile!r}",
                    identities[len(steps)],
                    lambda signer: self._session(signer, root, None),
                    slow_because="a passphrase prompt in another terminal?",
                )
            )
        for position, hop in enumerate(chain.hops):
            steps.append(
                _Step(
                    f"role {hop.profile!r}",
                    identities[len(steps)],
                    self._role_fetcher(position, hop),
                )
            )
        return steps

    def _root_step(self, identity: Identity | None) -> _Step:
        root = self._chain.root
        if isinstance(root, StoredKeys):

            def from_the_store(_: Credentials | None) -> Credentials:
                from awsrun.credentials.roots import stored_keys  # a fetch only

                return stored_keys(root, self._environ)

            note = f"long-term keys from the {root.backend} store, for STS only"
            return _Step(f"stored keys of {root.profile!r}", None, from_the_store, note=note)
        if isinstance(root, StaticKeys):
            keys = Credentials(root.access_key_id, root.secret_access_key, root.session_token)
            kind = (
                "temporary keys (with a session token)" if root.session_token else "long-term keys"
            )
            note = f"{kind} in the profile, used as they are"

            def from_the_file(_: Credentials | None) -> Credentials:
                # Only when something is fetched: a hit never reads the stored-keys index.
                from awsrun.credentials.roots import refuse_keys_in_two_places

                refuse_keys_in_two_places(root, self._chain.files)
                return keys

            return _Step(f"keys of {root.profile!r}", None, from_the_file, note=note)
        if isinstance(root, Boto3Profile):

            def from_botocore(_: Credentials | None) -> Credentials:
                if root.kind == "sso":
                    self._signed_in()
                self._reporter.info(
                    f"{root.kind} profile {root.profile!r}: asking botocore's {root.kind} provider"
                )
                return self._sts().profile_credentials(root.profile, root.kind, self.region)

            return _Step(
                f"{root.kind} profile {root.profile!r}",
                identity,
                from_botocore,
                slow_because="a sign-in in another terminal?",
            )
        if root.source == "Environment":

            def from_the_environment(_: Credentials | None) -> Credentials:
                from awsrun.credentials.roots import environment_keys  # a fetch only

                return environment_keys(root, self._environ)

            note = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, used as they are"
            return _Step("keys in the environment", None, from_the_environment, note=note)
        return _Step(
            f"credential_source {root.source}",
            None,
            lambda _: self._sts().credential_source(root.source, root.profile),
            note="asked of botocore's provider each run",
        )

    def _role_fetcher(
        self, position: int, hop: RoleHop
    ) -> Callable[[Credentials | None], Credentials]:
        def fetch(signer: Credentials | None) -> Credentials:
            assert signer is not None
            return self._assume(position, hop, signer)

        return fetch

    # -- the cache ------------------------------------------------------------------------

    def _obtain(self, index: int) -> Credentials:
        step = self._steps[index]
        if step.identity is None or self._cache is None:
            if step.note:
                self._reporter.info(f"{step.label}: {step.note}")
            return step.fetch(self._obtain(index - 1) if index else None)
        cache = self._cache
        is_top = index == len(self._steps) - 1
        key = entry_key(step.identity)
        margin = self._options.min_ttl
        if not is_top:
            margin = min(margin, SOURCE_MIN_TTL_SECONDS)
        # --refresh: only what another process fetched after this run started will do.
        refresh = (self._options.refresh and step.renewed_by_refresh) or index == self._renewing
        not_before = self._started if refresh else None
        hit = self._fresh(cache.read(key, self._now()), margin, not_before, step)
        if hit is not None:
            return hit
        stored: Credentials | None = None

        def stored_by_holder() -> bool:
            # While another process holds the lock, look for what it stores (every 20 ms:
            # quietly, -v has said what the cache held).
            nonlocal stored
            entry = cache.read(key, self._now())
            stored = self._fresh(entry, margin, not_before, step, quiet=True)
            return stored is not None

        def waiting(pid: int | None, doing: str | None) -> None:
            from awsrun.credentials.locks import HOLDER_DOING

            holder = "another awsrun" + (f" (pid {pid})" if pid else "")
            because = HOLDER_DOING[doing] if doing else step.slow_because
            self._reporter.warn(
                f"waiting for {holder} fetching {step.label} for up to "
                f"{format_duration(self._options.lock_timeout)}: {because}"
            )

        timeout, why = self._options.lock_timeout, step.slow_because
        with cache.lock(key, timeout, stored_by_holder, waiting, why) as held:
            # Whoever held the lock before us may have just stored what we need.
            if not held or stored_by_holder():
                assert stored is not None
                return stored
            signer = self._obtain(index - 1) if index else None
            from awsrun.credentials.sts import SourceRejected

            try:
                fetched = step.fetch(signer)
            except SourceRejected as rejected:
                previous = self._steps[index - 1].identity if index else None
                if previous is not None:
                    cache.delete(entry_key(previous))
                from awsrun.credentials.rejections import explained

                cached = self._steps[index - 1] if index else None
                label = cached.label if cached and cached.identity is not None else None
                raise explained(rejected, self._chain, label) from None
            now = self._now()
            if fetched.expires_at is not None:
                cache.write(key, CachedEntry(fetched, now, self._chain.profile, step.holds))
            lasts = None if fetched.expires_at is None else fetched.expires_at - now
            if is_top and lasts is not None and lasts < margin:
                hops = len(self._chain.hops)
                fix = (
                    "a role assumed from another role's session lasts 1h at most: ask for "
                    "less with --min-ttl"
                    if hops and self._chain.is_chained(hops - 1)
                    else "ask for a longer session with --duration (up to the role's "
                    "maximum), or a shorter --min-ttl"
                )
                self._reporter.warn(
                    f"the new credentials of {step.label} last {format_duration(lasts)}, "
                    f"less than the {format_duration(margin)} asked for with --min-ttl, so "
                    f"every run calls STS: {fix}"
                )
            return fetched

    def _fresh(
        self,
        entry: CachedEntry | None,
        margin: float,
        not_before: float | None,
        step: _Step,
        *,
        quiet: bool = False,
    ) -> Credentials | None:
        if entry is None:
            return None
        now = self._now()
        expires_at = entry.credentials.expires_at
        assert expires_at is not None
        left = expires_at - now
        # Entries keep whole seconds, so one stored in the second this run started counts as
        # older: --refresh may then fetch once more, but never hands back what it replaces.
        if not_before is not None and entry.obtained_at < not_before:
            return None
        if quiet:
            return entry.credentials if left >= margin else None
        if left < margin:
            left_text, margin_text = format_durations(left, margin)
            self._reporter.info(
                f"{step.label}: cached credentials have {left_text} left, "
                f"less than {margin_text}; refreshing"
            )
            return None
        age = format_duration(now - entry.obtained_at)
        self._reporter.info(
            f"{step.label}: from the cache (obtained {age} ago, {format_duration(left)} left)"
        )
        return entry.credentials

    # -- fetching -------------------------------------------------------------------------

    def _sts(self) -> Sts:
        if self._sts_client is None:
            from awsrun.credentials.sts import Sts

            self._sts_client = Sts(
                self._chain.profile,
                endpoint_configured=self._chain.endpoint is not None,
                reporter=self._reporter,
                in_files=self._chain.profile in self._chain.files.profiles,
            )
        return self._sts_client

    def _signed_in(self) -> None:
        """A usable IAM Identity Center token for the chain's SSO root, signing in if need be."""
        from awsrun.credentials import sso
        from awsrun.credentials.session_end import sso_session_end
        from awsrun.credentials.sso_tokens import read_token, session_of_chain

        options = self._options
        session = session_of_chain(self._chain)
        sso.ensure_signed_in(
            session,
            self._chain.profile,
            cache=self._cache,
            lock_timeout=options.lock_timeout,
            browser=options.browser,
            device_code=options.device_code,
            reporter=self._reporter,
            now=self._now,
        )
        self.session_end = sso_session_end(session, read_token(session), self._now())

    def _session(
        self, signer: Credentials | None, root: StaticKeys, serial: str | None
    ) -> Credentials:
        """GetSessionToken with the long-term keys: an MFA session (its code asked for: on
        the terminal, up to 3 codes when STS refuses one), or with no `serial` the plain
        session that stored keys give a command. A code given or made is not asked again."""
        assert signer is not None
        from awsrun.credentials.sts import WrongMfaCode  # a miss only

        if serial is None:
            from awsrun.config.chain import STORED_KEYS_SESSION_SECONDS

            duration = self._options.duration or STORED_KEYS_SESSION_SECONDS
        else:
            duration = self._options.mfa_duration
        typed = serial is not None and not self._options.mfa_code and not self._chain.mfa_process
        for attempt in range(3 if typed else 1):
            code = None if serial is None else self._code(serial)
            device = f" with {serial}" if serial else ""
            self._reporter.info(f"STS GetSessionToken{device} for {format_duration(duration)}")
            try:
                return self._sts().get_session_token(
                    signer,
                    serial=serial,
                    code=code,
                    duration_seconds=duration,
                    region=self.region,
                    source=f"profile {root.profile!r}",
                )
            except WrongMfaCode:
                if attempt == 2 or not typed:
                    raise
                self._reporter.warn("that code was wrong or already used: type the next one")
        raise AssertionError("unreachable")  # the loop returns or raises

    def _code(self, serial: str) -> str:
        from awsrun.credentials.mfa import mfa_code  # a miss only

        return mfa_code(
            serial,
            profile=self._chain.profile,
            given=self._options.mfa_code,
            process=self._chain.mfa_process,
        )

    def _assume(self, position: int, hop: RoleHop, signer: Credentials) -> Credentials:
        from awsrun.credentials.sts import RoleRequest

        chain = self._chain
        options = self._options
        asked = chain.hop_request(
            position, session_name=options.session_name, duration=options.duration
        )
        duration = asked.duration_seconds
        if asked.asked_seconds is not None:
            self._reporter.warn(
                f"role {hop.profile!r} is assumed from another role's session, and AWS caps "
                f"such a session at 1h: asking for 1h instead of "
                f"{format_duration(asked.asked_seconds)}"
            )
        serial = token = None
        if hop.mfa_serial and hop.mfa_serial != chain.mfa_serial:
            # No MFA session covers this device (the source is not long-term keys): STS
            # takes the code on the AssumeRole itself.
            serial = hop.mfa_serial
            from awsrun.credentials.mfa import mfa_code  # a miss only

            token = mfa_code(
                serial,
                profile=chain.profile,
                given=options.mfa_code,
                process=hop.mfa_process or chain.mfa_process,
            )
        session_name = asked.session_name
        request = RoleRequest(hop.role_arn, session_name, duration, hop.external_id, serial, token)
        self._reporter.info(
            f"STS AssumeRole {hop.role_arn} as {session_name!r}"
            + (f" for {format_duration(duration)}" if duration else "")
        )
        return self._sts().assume_role(
            signer, request, region=self.region, source=self._source_label(position)
        )

    def _source_label(self, position: int) -> str:
        if position > 0:
            return f"role profile {self._chain.hops[position - 1].profile!r}"
        if self._chain.mfa_serial is not None:
            return f"the MFA session of profile {self._chain.root.profile!r}"
        root = self._chain.root
        if isinstance(root, CredentialSource):
            return f"credential_source {root.source} of profile {root.profile!r}"
        return f"source profile {root.profile!r}"


__all__ = [
    "SOURCE_MIN_TTL_SECONDS",
    "Broker",
]
