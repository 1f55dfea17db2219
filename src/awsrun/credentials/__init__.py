"""Getting credentials for a resolved profile: the broker that answers from the cache or
fetches, the on-disk cache and its locks, the calls to STS and IAM, MFA codes, IAM Identity
Center sign-in and its account listing, the console's federation endpoint and the browser
they open, and the keystore that keeps long-term keys out of plaintext.

May import `awsrun.config` and the shared leaves, never `handoff` or `commands`. Only
`sts`, `sso`, `sso_accounts`, `federation` and `iam` talk to AWS, and only they import
botocore, inside the functions that need it or (sts) off the cache-hit path. This face
stays empty.
"""
