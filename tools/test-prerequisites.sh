#!/usr/bin/env bash
# What make test uses beyond Python packages: bash-completion, zsh and fish, for the tests
# of completion in each shell. Installed where they can be (root, apt-get); where they
# cannot, those tests are skipped and say why.
set -u
need=()
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } \
        >/dev/null 2>&1 || echo "make test: could not install ${need[*]}; their tests are skipped"
fi
exit 0
