"""Handing credentials to the command: the environment it gets, the exec boundary, the
`--server` endpoint and the supervision of its child, the formats of `awsrun env`, and the
private files (`env --output`, the console's forwarding page) awsrun writes for it.

May import `awsrun.credentials`, `awsrun.config` and the shared leaves, never `commands`.
This face stays empty: each import here is paid on every run.
"""
