#!/usr/bin/env bash
# What make test uses beyond Python packages: bash-completion, zsh and fish, for the tests
# of completion in each shell; pass and GnuPG, gnome-keyring with a D-Bus session, and age,
# for the tests of each keystore. Installed where they can be (root, apt-get); where they
# cannot, those tests are skipped and say why.
set -u
need=()
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v pass >/dev/null || need+=(pass)
command -v gpg >/dev/null || need+=(gnupg)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need+=(dbus)
command -v age >/dev/null || need+=(age)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } \
        >/dev/null 2>&1 || echo "make test: could not install ${need[*]}; their tests are skipped"
fi
exit 0
