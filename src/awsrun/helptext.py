"""What `awsrun --help` and `awsrun WORD --help` print: loaded only when asked for.

Each command's help lists the options that command takes and the variables it reads.
"""

from __future__ import annotations

_ENVIRONMENT_READ = """\
environment read: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_DEFAULT_PROFILE,
  AWS_PROFILE, AWSRUN_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS,
  AWSRUN_CACHE_DIR, AWSRUN_MIN_TTL, AWSRUN_LOCK_TIMEOUT (120s)
"""
_ENVIRONMENT = f"""\
{_ENVIRONMENT_READ}environment set: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  AWS_CREDENTIAL_EXPIRATION, AWS_REGION, AWS_DEFAULT_REGION, AWSRUN_PROFILE
environment removed: AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_ACCOUNT_ID, keys under other names
"""
_SERVER_OPTION = """\
  --server               serve the credentials to COMMAND on 127.0.0.1 and refresh them
                         while it runs (for runs that outlive a session)
"""
# Only the commands that hand credentials on take it; the main help stays on one screen.
_NO_SESSION_OPTION = """\
  --no-session           keys stored with `awsrun add` go on as they are, not as a
                         GetSessionToken session (for the few calls that refuse one)
"""
_CREDENTIAL_OPTIONS = """\
  --min-ttl DURATION     use cached credentials only with this much time left (15m)
  --refresh              renew every role of the chain (a cached MFA session is kept)
  --duration DURATION    session length of the profile's role session (e.g. 2h, 90m, 3600)
  --region REGION        region of STS and the command (else AWS_DEFAULT_REGION, profile's)
  --session-name NAME    RoleSessionName of the profile's role session
  --mfa-code CODE        the MFA code, instead of mfa_process or a prompt on the terminal
  --mfa-duration DURATION  length of the MFA session that serves every role (12h)
  -v, --verbose          say where the credentials came from (never prints secrets)
  --debug                show tracebacks
"""
HELP = f"""\
usage: awsrun [OPTIONS] [PROFILE] [--] [COMMAND [ARG...]]
       awsrun COMMAND-WORD ...   (awsrun help WORD, or --help after it)

  exec                the same as plain awsrun, for a profile named like a word below
  env                 print the variables, for eval, fish, PowerShell, cmd, .env, JSON
  credential-process  the AWS credential_process JSON, for a profile in ~/.aws/config
  list, clear         every profile, its kind and cached time left; remove cached ones
  login, logout       sign in to (out of) a profile's IAM Identity Center (SSO) session
  console             open the AWS console as a profile, from the same cache
  completion          a bash, zsh or fish completion script
  add, remove, rotate keep a profile's long-term keys in a keystore; a new key via IAM
  roles, populate     an SSO session's accounts and roles: listed, or written as profiles

  awsrun prodaccess -- terraform plan
  awsrun -- aws s3 ls        # $AWS_DEFAULT_PROFILE, $AWS_PROFILE, $AWSRUN_PROFILE, default
  eval "$(awsrun env prodaccess)"  # the same variables, in this shell

Runs COMMAND with cached temporary credentials for a profile; with none, runs $SHELL.

options (before the profile):
{_SERVER_OPTION}{_CREDENTIAL_OPTIONS}  -h, --help, --version

{_ENVIRONMENT}exit status: the command's own; 125 awsrun failed; 126 not executable; 127 not found
"""
ACTION_HELP = {
    "exec": f"""\
usage: awsrun exec [OPTIONS] PROFILE [--] COMMAND [ARG...]

  awsrun exec env -- make deploy   # for a profile named like a command word

The explicit spelling of `awsrun PROFILE -- COMMAND`.

options:
{_SERVER_OPTION}{_CREDENTIAL_OPTIONS}{_NO_SESSION_OPTION}
{_ENVIRONMENT}""",
    "env": f"""\
usage: awsrun env [OPTIONS] [PROFILE] [--format FORMAT] [--output FILE]

  eval "$(awsrun env prodaccess)"
  awsrun env prodaccess --format fish | source
  awsrun env prodaccess --format dotenv --output .env && docker run --env-file .env IMAGE

Prints the variables the command of `awsrun PROFILE --` would get, and unsets the ones
it would not have. Nothing else goes to stdout.

options:
  --format FORMAT        sh (default; bash, zsh, dash), fish, powershell, cmd, dotenv, json
  --output FILE          write FILE (0600, atomically; left as it was on failure), not stdout
{_CREDENTIAL_OPTIONS}{_NO_SESSION_OPTION}
{_ENVIRONMENT}""",
    "credential-process": f"""\
usage: awsrun credential-process [OPTIONS] PROFILE

  [profile prod-cached]                                       # in ~/.aws/config
  credential_process = awsrun credential-process prodaccess

Prints the JSON of the AWS credential_process contract (Version 1), from awsrun's cache,
so that any SDK or tool can use it. MFA prompts go to /dev/tty.

options:
{_CREDENTIAL_OPTIONS}{_NO_SESSION_OPTION}
{_ENVIRONMENT_READ}""",
    "list": f"""\
usage: awsrun list [--json | --names]

  awsrun list
  awsrun list --json | jq '.[] | select(.cached)'
  awsrun list --names              # one name per line (the completion scripts use it)

Every profile in the config files: its kind (role, static, sso, process, web-identity),
what it chains from, its region, and how long its cached credentials have left.
Reads the cache only: no STS call.

options:
  --json                 one JSON array, for scripts
  --names                profile names only, one per line, without reading the cache

{_ENVIRONMENT_READ}""",
    "clear": """\
usage: awsrun clear [--mfa] PROFILE [PROFILE...] | awsrun clear --all

  awsrun clear prodaccess          # its cached credentials
  awsrun clear --mfa prodaccess    # and the MFA session it uses
  awsrun clear --all               # everything awsrun has cached

Removes cached credentials from awsrun's own cache folder, and nothing else there,
and says what it removed.

environment read: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWSRUN_CACHE_DIR
""",
    "add": """\
usage: awsrun add [--env | --move] [--no-check] PROFILE

  awsrun add alice                 # asks for the key id and the secret on the terminal
  AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... awsrun add --env alice
  awsrun add --move default        # out of ~/.aws/credentials: those lines only go

Stores an IAM user's access key for PROFILE in awsrun's keystore, never in a file in
plaintext. The profile needs no section in the config files; a role profile names it as
its source_profile. Runs give commands a GetSessionToken session made with the keys (or
the role's credentials), never the keys themselves. The keys are checked with one STS
GetCallerIdentity first (--no-check skips it). With --move, the keys come from the
profile's lines in a config file, which are removed (every other byte kept) once the
store holds them.

environment read: AWSRUN_KEYRING (auto, secret-service, keychain, windows, pass, file),
  AWSRUN_KEYRING_FILE, AWSRUN_FILE_PASSPHRASE, AWSRUN_PASS_PREFIX, PASSWORD_STORE_DIR,
  AWSRUN_DATA_DIR (where the index of stored keys is kept)
""",
    "remove": """\
usage: awsrun remove PROFILE

Deletes the keys stored for PROFILE with `awsrun add`, and every cached credential that
was made with them (sessions, and roles assumed with them).

environment read: AWSRUN_KEYRING_FILE, AWSRUN_FILE_PASSPHRASE, AWSRUN_PASS_PREFIX,
  AWSRUN_DATA_DIR, AWSRUN_CACHE_DIR
""",
    "roles": """\
usage: awsrun roles [--json] --sso-session NAME | awsrun roles [--json] PROFILE

  awsrun roles --sso-session corp  # every account and role of [sso-session corp]
  awsrun roles --json sso-dev      # of sso-dev's session, for scripts

Lists every account and role the IAM Identity Center session may use (of the
[sso-session NAME] section, or of PROFILE's session): account id, account name, role, and
the profile of the config files that already points at them. Signs in first if it must.
""",
    "populate": """\
usage: awsrun populate --sso-session NAME [--template T] [--region R] [--prune] [--dry-run]

  awsrun populate --sso-session corp            # profiles such as Prod.Admin
  awsrun populate --sso-session corp --template '{account_id}-{role_name}' --prune

Writes one profile per account and role of the session into the config file
(AWS_CONFIG_FILE, else ~/.aws/config), each marked with a comment that names the
session. Names come from --template ({account_name}.{role_name} by default; also
{account_id}, {sso_session}), made safe and unique (an account id is appended where two
accounts share a name). A section you wrote is never changed: a name it has is skipped.
--prune removes generated profiles the session no longer has; --dry-run writes nothing.
Everything else in the file stays byte for byte; a run with nothing new leaves it as is.
""",
    "rotate": """\
usage: awsrun rotate [--mfa-code CODE] PROFILE

Replaces PROFILE's long-term key (stored with `awsrun add`, or in a config file) with a
new one: IAM CreateAccessKey for the keys' own user, a wait until the new key works (up
to 2 minutes), the new key stored where the old one was (a file keeps every other byte),
then the old key deleted and the credentials made with it forgotten. With mfa_serial the
IAM calls use an MFA session. If a step fails, awsrun still holds one working key, and
its last line says which.

environment read: AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL, and the keystore's (see add)
""",
    "login": f"""\
usage: awsrun login [--use-device-code|--no-browser] PROFILE | --sso-session NAME

  awsrun login sso-dev
  awsrun login --sso-session corp  # an [sso-session corp] section of the config file

Signs in to the IAM Identity Center session of PROFILE (or of the SSO profile its chain
starts from). Where a browser here can be opened (BROWSER is honoured), it opens the
sign-in page and takes the answer on 127.0.0.1 (authorization code flow with PKCE, as
the AWS CLI v2). With --use-device-code, --no-browser, over SSH or with no display: a URL
and a code on the terminal, to approve on any device. The token goes where the AWS CLI
v2 and the SDKs read it (~/.aws/sso/cache), so they need no second sign-in. It always
signs in anew, as `aws sso login` does. A run that needs a sign-in does it by itself.
For a profile with mfa_serial, it renews the MFA session now (a new code).

{_ENVIRONMENT_READ}  AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC (a local Identity Center)
""",
    "logout": """\
usage: awsrun logout PROFILE [PROFILE...] | awsrun logout --all

  awsrun logout sso-dev            # its IAM Identity Center session
  awsrun logout --all              # every session a profile signs in to

Signs out of the sessions (the portal's sign-out), removes their tokens from
~/.aws/sso/cache (which the AWS CLI v2 and the SDKs share), and removes awsrun's cached
credentials that came from them.

environment read: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWSRUN_CACHE_DIR
""",
    "console": f"""\
usage: awsrun console [OPTIONS] PROFILE [--service NAME | --destination URL] [--print]

  awsrun console prodaccess              # the console home, as the role, in the browser
  awsrun console --service s3 prodaccess
  awsrun console --print --duration 4h prodaccess | pbcopy

Signs in to the AWS console as the profile with its credentials from awsrun's cache (no
new MFA code while the MFA session lasts), through AWS's federation endpoint. Long-term
keys go through STS GetFederationToken first, with the IAM user's own permissions.
The URL signs anyone in for 15 minutes: the browser is handed a private page (0600)
that forwards to it, never the URL on its command line, where every local user could
read it; --print writes it to stdout only, for pasting.

options:
  --service NAME         the service's console page (s3, ec2, cloudwatch...)
  --destination URL      any console URL of the profile's partition
  --print                print the URL instead of opening a browser (BROWSER, else the
                         system's own, opens it otherwise)
  --url-in-argv          hand the browser the URL itself (other local users can read it)
  --duration DURATION    the console session's length, 15m to 12h (else the credentials')
  --region REGION        the console's region (else AWS_DEFAULT_REGION, the profile's)
  --min-ttl, --refresh, --session-name, --mfa-code, --mfa-duration, -v, --debug
                         as for every command (awsrun --help)

{_ENVIRONMENT_READ}  AWSRUN_FEDERATION_ENDPOINT (the federation URL; else AWS's, per partition)
""",
    "completion": """\
usage: awsrun completion bash|zsh|fish

  source <(awsrun completion bash)         # in ~/.bashrc
  source <(awsrun completion zsh)          # in ~/.zshrc
  awsrun completion fish > ~/.config/fish/completions/awsrun.fish

Prints a script that completes command words, options and profile names; the names
come from `awsrun list --names`, which reads AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
""",
}


__all__ = ["ACTION_HELP", "HELP"]
