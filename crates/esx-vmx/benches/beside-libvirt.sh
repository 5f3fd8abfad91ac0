#!/usr/bin/env bash
# Conversion throughput of esx-vmx and of libvirt's own converter, in one run:
# starts vcsim-xsi on PORT (default 18690), times libvirt over one connection
# (libvirt_vmx_bench.py), runs the criterion benchmark, stops vcsim.
# Run from the workspace root:  crates/esx-vmx/benches/beside-libvirt.sh [PORT] [ROUNDS]
set -euo pipefail
PORT=${1:-18690}
ROUNDS=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PEERS=${PEERS_DIR:-$ROOT/../shared/peers}
CORPUS=${LIBVIRT_VMX_CORPUS:-$ROOT/../shared/corpus/libvirt-vmx}
[ -x /opt/peers/bin/vcsim-xsi ] || { echo "vcsim-xsi missing: bash $PEERS/setup-peers.sh" >&2; exit 1; }
VCSIM_BIN=/opt/peers/bin/vcsim-xsi "$PEERS/start-vcsim.sh" esx 1 "$PORT"
trap '"$PEERS/start-vcsim.sh" stop "$PORT"' EXIT
# LIBVIRT_LIBDIR (e.g. /opt/libvirt-11.3/lib/x86_64-linux-gnu) picks the libvirt that
# python3-libvirt loads; Debian's own libvirt otherwise.
if [ -n "${LIBVIRT_LIBDIR:-}" ]; then export LD_LIBRARY_PATH=$LIBVIRT_LIBDIR; fi
echo "== libvirt $(/usr/bin/python3 -c 'import libvirt; v=libvirt.getVersion(); print(f"{v//1000000}.{v//1000%1000}.{v%1000}")') (python3-libvirt, ESX driver, one connection)"
/usr/bin/python3 "$HERE/libvirt_vmx_bench.py" "esx://root@127.0.0.1:$PORT/?no_verify=1" "$CORPUS" "$ROUNDS" 2>/dev/null
echo "== esx-vmx (criterion)"
cd "$ROOT"
LIBVIRT_VMX_CORPUS=$CORPUS cargo bench -p esx-vmx --bench convert
