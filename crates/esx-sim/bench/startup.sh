#!/usr/bin/env bash
# Start-up time and resident memory of esx-sim (release build) beside vcsim, same VM counts.
#
#   crates/esx-sim/bench/startup.sh [COUNTS...]      default: 1000 10000
#
# Env: ESX_SIM (default $CARGO_TARGET_DIR/release/esx-sim or target/release/esx-sim),
#      PORT (default 18750; vcsim uses PORT+1), FLAVOR (esx-sim flavor, default vcenter).
# esx-sim: a fresh data dir each run, `--inventory vm=N`, time until it prints ready_s; RSS read
# from /proc once ready. vcsim: start-vcsim.sh vc N (its VCSIM_READY_S), RSS the same way.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${ESX_SIM:-${CARGO_TARGET_DIR:-$root/target}/release/esx-sim}
port=${PORT:-18750}
flavor=${FLAVOR:-vcenter}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1000 10000)
shared=${SHARED:-$root/../shared}
work=$(mktemp -d /tmp/esx-sim-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo pass > "$work/pw"

rss_mib() { awk '/^VmRSS:/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

echo "| VMs | esx-sim ready | esx-sim RSS | vcsim ready | vcsim RSS |"
echo "|---|---|---|---|---|"
for n in "${counts[@]}"; do
  data="$work/data-$n"
  "$bin" --flavor "$flavor" --listen "127.0.0.1:$port" --data-dir "$data" \
    --inventory "vm=$n" --password-file "$work/pw" > "$work/out-$n" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q '^ready_s=' "$work/out-$n" && break; sleep 0.05; done
  ready=$(sed -n 's/^ready_s=//p' "$work/out-$n")
  rss=$(rss_mib "$pid")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

  vport=$((port + 1))
  if [ -x /opt/peers/bin/vcsim ]; then
    out=$(bash "$shared/peers/start-vcsim.sh" vc "$n" "$vport")
    eval "$out"
    vready=$VCSIM_READY_S
    vrss=$(rss_mib "$VCSIM_PID")
    bash "$shared/peers/start-vcsim.sh" stop "$vport"
  else
    vready=n/a; vrss=n/a
  fi
  printf '| %s | %.2f s | %s MiB | %s s | %s MiB |\n' "$n" "$ready" "$rss" "$vready" "$vrss"
done
