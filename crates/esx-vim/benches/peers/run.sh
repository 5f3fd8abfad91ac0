#!/usr/bin/env bash
# Decode/encode throughput of esx-vim, govmomi and pyVmomi on the same RetrievePropertiesEx
# response, in one run. Needs ../shared/peers/setup-peers.sh to have run (PEERS=/opt/peers).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
PEERS=${PEERS:-/opt/peers}
VMS=${VMS:-2000}
DOC=$(mktemp /tmp/rpe-XXXXXX.xml)
trap 'rm -f "$DOC" "$DOC.gobin"' EXIT
cd "$ROOT"
cargo build -q --release -p esx-vim --example codec-figures
"${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/codec-figures" --vms "$VMS" --write "$DOC"
GP="$PEERS/gopath-govmomi-0.24.2"
(cd /tmp && GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE="$PEERS/gocache" GOPATH="$GP:/usr/share/gocode" \
  go build -o "$DOC.gobin" "$HERE/govmomi_decode.go")
"$DOC.gobin" "$DOC"
"$PEERS/venv/bin/python" "$HERE/pyvmomi_decode.py" "$DOC"
