#!/usr/bin/env bash
# What make test uses beyond Python packages: bash-completion, for the test that hands a
# command to its own completion. Installed where it can be (root, apt-get); where it
# cannot, that one test is skipped and says why.
set -u
if [ ! -f /usr/share/bash-completion/bash_completion ] && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bash-completion; } \
        >/dev/null 2>&1 || echo "make test: could not install bash-completion; its test is skipped"
fi
exit 0
