#!/usr/bin/env bash
# The vmx-diff harness end to end: builds esx-sim and the harness, starts esx-sim on loopback
# with the datastores the generator uses (directories under a temporary data dir), runs
# vmx-diff against libvirt 11.3 (/opt/libvirt-11.3, see ../shared/peers/setup-libvirt-11.3.sh)
# and stops the simulator. Extra arguments go to vmx-diff (e.g. --count 200 --seed 7).
# Run from the workspace root:  crates/esx-vmx/examples/vmx-diff/vmx-diff.sh [ARGS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
PEERS=${PEERS_DIR:-$ROOT/../shared/peers}
export LIBVIRT_AUTH_FILE=${LIBVIRT_AUTH_FILE:-$PEERS/libvirt-auth.conf}
export LIBVIRT_LIBDIR=${LIBVIRT_LIBDIR:-/opt/libvirt-11.3/lib/x86_64-linux-gnu}
[ -e "$LIBVIRT_LIBDIR/libvirt.so.0" ] || { echo "libvirt 11.3 missing: sudo $PEERS/setup-libvirt-11.3.sh" >&2; exit 1; }

cd "$ROOT"
cargo build -q -p esx-sim
cargo build -q --release -p esx-vmx --example vmx-diff
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

WORK=$(mktemp -d /tmp/vmx-diff-sim.XXXXXX)
SIM_PID=
cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
for ds in datastore ds storage testing 498076b2-02796c1a-ef5b-000ae484a6a3 \
          4af0231d-1eff559a-6369-0024e84773b6 5669422e-699d77db-c144-00e0815e303e \
          692eb778-2d4937fe; do
    mkdir -p "$WORK/data/$ds"
done
echo pass > "$WORK/password"
"$TARGET/debug/esx-sim" --data-dir "$WORK/data" --password-file "$WORK/password" \
    --inventory vm=0 > "$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do
    grep -q '^url=' "$WORK/sim.log" && break
    sleep 0.1
done
PORT=$(sed -n 's|^url=https://127.0.0.1:\([0-9]*\)/sdk|\1|p' "$WORK/sim.log")
[ -n "$PORT" ] || { cat "$WORK/sim.log" >&2; exit 1; }
"$TARGET/release/examples/vmx-diff" --uri "esx://root@127.0.0.1:$PORT/?no_verify=1" "$@"
