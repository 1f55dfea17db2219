"""`awsrun roles` and `awsrun populate`: every account and role an IAM Identity Center
session may use, listed, or written into the config file as one profile each.

Both sign in first if they must (as any run does: with no terminal, one line naming
`awsrun login`). populate changes only the sections it generated (marked with a comment
that names the session), writes the file atomically with its mode kept, and leaves it
untouched (same bytes, same mtime) when nothing changed.
"""

from __future__ import annotations

import json
import sys
import time

from awsrun.errors import ConfigError, StsError, UsageError

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsrun.commands.invocation import Invocation
    from awsrun.config.files import ConfigFiles
    from awsrun.credentials.sso_accounts import AccountRole
    from awsrun.credentials.sso_tokens import SsoSession
    from awsrun.report import Reporter


def run_roles(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    files, session, login_words = _session(invocation, environ, "roles")
    roles, _ = _listed(session, login_words, invocation, environ, reporter)
    existing = _existing_profiles(files, session)
    if "json" in invocation.flags:
        rows = [
            {
                "account_id": role.account_id,
                "account_name": role.account_name,
                "role_name": role.role_name,
                "profile": existing.get((role.account_id, role.role_name)),
            }
            for role in roles
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    table = [("ACCOUNT", "NAME", "ROLE", "PROFILE")] + [
        (
            role.account_id,
            role.account_name,
            role.role_name,
            existing.get((role.account_id, role.role_name), "-"),
        )
        for role in roles
    ]
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    sys.stdout.write(
        "".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
            + f"  {row[3]}\n"
            for row in table
        )
    )
    return 0


def run_populate(invocation: Invocation, environ: Mapping[str, str], reporter: Reporter) -> int:
    import os

    from awsrun.config.generated import DEFAULT_TEMPLATE, Wanted, populate, profile_names
    from awsrun.privatefiles import make_private_folders, write_private

    started = time.monotonic()
    files, session, login_words = _session(invocation, environ, "populate")
    if session.name is None:
        raise UsageError("awsrun populate takes --sso-session NAME (an [sso-session] section)")
    template = invocation.values.get("template", DEFAULT_TEMPLATE)
    try:
        template.format(account_id="", account_name="", role_name="", sso_session="")
    except (KeyError, IndexError, ValueError):
        raise UsageError(
            f"--template {template!r} may use {{account_id}}, {{account_name}}, "
            "{role_name} and {sso_session} only"
        ) from None
    region = invocation.values.get("region") or session.region
    roles, accounts = _listed(session, login_words, invocation, environ, reporter)
    names = profile_names(
        ((role.account_id, role.account_name, role.role_name) for role in roles),
        template,
        session.name,
    )
    wanted = [
        Wanted(names[(role.account_id, role.role_name)], role.account_id, role.role_name, region)
        for role in roles
    ]
    path = os.path.realpath(files.config_path)  # through a symlink, which stays
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    new_text, change = populate(
        text, wanted, session.name, files.config_sections, prune="prune" in invocation.flags
    )
    for name in change.skipped:
        reporter.warn(f"skipped profile {name!r}: a section you wrote has that name")
    dry_run = "dry_run" in invocation.flags
    if new_text != text and not dry_run:
        mode = os.stat(path).st_mode & 0o7777 if text else 0o600
        try:
            make_private_folders(os.path.dirname(path))  # a first config file: ~/.aws too
            write_private(path, new_text.encode("utf-8"), mode=mode)
        except OSError as error:
            raise ConfigError(f"cannot write {files.config_path}: {error.strerror}") from None
    for verb, names_changed in (
        ("would add" if dry_run else "added", change.added),
        ("would update" if dry_run else "updated", change.updated),
        ("would remove" if dry_run else "removed", change.removed),
    ):
        for name in names_changed:
            reporter.info(f"{verb} profile {name!r}")
        if dry_run and names_changed:
            sys.stdout.write("".join(f"{verb} {name}\n" for name in names_changed))
    sys.stdout.write(
        f"{'would change: ' if dry_run else ''}added {len(change.added):,}, updated "
        f"{len(change.updated):,}, removed {len(change.removed):,}, unchanged "
        f"{len(change.unchanged):,}, skipped {len(change.skipped):,} profiles for SSO session "
        f"{session.name!r} ({accounts:,} accounts) in {time.monotonic() - started:.1f} s\n"
    )
    return 0


def _session(
    invocation: Invocation, environ: Mapping[str, str], word: str
) -> tuple[ConfigFiles, SsoSession, str]:
    """The session the command line names, and the words `awsrun login` would take for it."""
    from awsrun.commands.invocation import profile_choice
    from awsrun.config.files import load_config_files
    from awsrun.config.resolve import resolve_choice
    from awsrun.credentials.sso_tokens import session_named, session_of_chain

    name = invocation.values.get("sso_session")
    if len(invocation.words) != (0 if name else 1):
        raise UsageError(f"awsrun {word} takes --sso-session NAME, or one profile of the session")
    files = load_config_files(environ)
    if name:
        return files, session_named(name, files), f"--sso-session {name}"
    choice = profile_choice(invocation, environ)
    advice = ": name one that does, or the session (--sso-session NAME)"
    return files, session_of_chain(resolve_choice(choice, files), advice), choice.name


def _listed(
    session: SsoSession,
    login_words: str,
    invocation: Invocation,
    environ: Mapping[str, str],
    reporter: Reporter,
) -> tuple[list[AccountRole], int]:
    """The session's accounts and roles, after a sign-in if one is needed."""
    from awsrun.credentials import sso
    from awsrun.credentials.cache import Cache
    from awsrun.credentials.options import lock_timeout_from
    from awsrun.credentials.sso_accounts import list_account_roles, terminal_progress
    from awsrun.credentials.sso_oidc import fresh_access_token
    from awsrun.folders import cache_dir

    flags = invocation.flags
    browser, device_code = "no_browser" not in flags, "use_device_code" in flags
    access_token = fresh_access_token(session)
    if access_token is None:
        sso.ensure_signed_in(
            session,
            login_words,
            cache=Cache(cache_dir(environ), reporter),
            lock_timeout=lock_timeout_from(environ),
            browser=browser,
            device_code=device_code,
            reporter=reporter,
        )
        access_token = fresh_access_token(session)
        if access_token is None:  # its refresh token was refused
            sso.sign_in(session, login_words, browser=browser, device_code=device_code)
            access_token = fresh_access_token(session)
    if access_token is None:
        raise StsError(f"{session.label} gave no usable token: run 'awsrun login {login_words}'")
    progress = terminal_progress(f"listing the accounts of {session.label}")
    try:
        return list_account_roles(
            access_token, session.region, endpoint=session.portal_endpoint, progress=progress
        )
    finally:
        if progress is not None:
            sys.stderr.write("\r\033[K")


def _existing_profiles(files: ConfigFiles, session: SsoSession) -> dict[tuple[str, str], str]:
    """The profile of the files that already points at each (account, role) of the session."""
    found: dict[tuple[str, str], str] = {}
    for name in sorted(files.profiles):
        settings = files.profiles[name]
        same_session = (
            settings.get("sso_session") == session.name
            if session.name
            else (settings.get("sso_start_url") == session.start_url)
        )
        account, role = settings.get("sso_account_id"), settings.get("sso_role_name")
        if same_session and account and role:
            found.setdefault((account, role), name)
    return found


__all__ = ["run_populate", "run_roles"]
