#!/usr/bin/env bash
# Installs the clients that `make interop` runs against awsrun. A client that cannot be had
# is not an error here: run.py names it as skipped in its matrix.
set -uo pipefail
cd "$(dirname "$0")"
mkdir -p build

# Debian's packages: the AWS CLI v2, and the Go SDK v2 with Go to build against it.
need=()
/usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2' || need+=(awscli)
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2 ] || need+=(golang-github-aws-aws-sdk-go-v2-dev)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "interop: installing ${need[*]} from Debian's packages"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } \
            >build/apt.log 2>&1 || echo "interop: apt-get failed (build/apt.log): those clients are skipped"
    else
        echo "interop: ${need[*]} missing, and apt-get needs root: those clients are skipped"
    fi
fi

# The JS SDK v3 from npm, at the versions package-lock.json pins.
if command -v npm >/dev/null; then
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund --silent >build/npm.log 2>&1 \
            || echo "interop: npm ci failed (build/npm.log): the JS SDK is skipped"
    fi
fi

# The Go client, built offline in GOPATH mode against Debian's sources.
if command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2 ]; then
    if [ ! -x build/whoami-go ] || [ whoami.go -nt build/whoami-go ]; then
        mkdir -p build/gopath/src/whoami && cp whoami.go build/gopath/src/whoami/
        (cd build/gopath/src/whoami && GO111MODULE=off GOFLAGS= GOPROXY=off \
            GOPATH="$PWD/../..:/usr/share/gocode" GOCACHE="$PWD/../../../gocache" \
            go build -o ../../../whoami-go .) >build/go.log 2>&1 \
            || echo "interop: building the Go client failed (build/go.log): it is skipped"
    fi
fi
exit 0
