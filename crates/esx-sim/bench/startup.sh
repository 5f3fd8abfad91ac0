#!/usr/bin/env bash
# esx-sim (release build) beside vcsim, same inventory, one run: start-up time, resident memory,
# pyvmomi_list.py time, RetrievePropertiesEx throughput under concurrent clients.
#
#   crates/esx-sim/bench/startup.sh [COUNTS...]      default: 1000 10000
#
# Build first (once): cargo build --release -p esx-sim --bin esx-sim --examples
#
# Env: ESX_SIM  (default $CARGO_TARGET_DIR/release/esx-sim, else target/release/esx-sim)
#      LOAD     (default the same dir's examples/load; the load loop, see examples/load.rs)
#      PORT     (default 18850; vcsim uses PORT+1)
#      CLIENTS  (default 8), ROUNDS (rounds per client; default 50,000 / N, so every count reads
#      the same number of VMs in total), SECONDS_MAX (bound, default 30),
#      PAGE     (maxObjects per RetrievePropertiesEx page, default 1000)
#      LISTS    (pyvmomi_list.py runs per server, the median is shown; default 3)
#      ONLY     (esx-sim or vcsim: measure one server only)
#      COLD     (1: drop the page cache before each server starts, so that its program and
#               libraries are read from disk; needs root)
# Inventory on both: 1 datacenter, 1 cluster of 3 hosts, 1 datastore, N VMs
#   (esx-sim --flavor vcenter --inventory dc=1,cluster=1,host=3,ds=1,net=1,vm=N;
#    vcsim via start-vcsim.sh vc N, i.e. -dc 1 -cluster 1 -host 3 -standalone-host 0 -vm N).
# Both keep their files on tmpfs (/dev/shm). Start-up, measured alike for both: launch until the
# server prints that it is ready (esx-sim's ready_s line, polled every 20 ms; vcsim: start-vcsim.sh's
# VCSIM_READY_S, launch until it prints GOVC_URL, polled the same way). RSS: VmRSS once ready; peak: VmHWM after the list and the load.
# Raw lines go to stderr; the Markdown table to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rel=${CARGO_TARGET_DIR:-$root/target}/release
bin=${ESX_SIM:-$rel/esx-sim}
load=${LOAD:-$rel/examples/load}
port=${PORT:-18850}
clients=${CLIENTS:-8}
seconds=${SECONDS_MAX:-30}
page=${PAGE:-1000}
lists=${LISTS:-3}
only=${ONLY:-}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1000 10000)
shared=${SHARED:-$root/../shared}
python=${PYTHON:-/opt/peers/venv/bin/python}
work=$(mktemp -d /dev/shm/esx-sim-bench.XXXXXX)
sim_pid= vc_port=
cleanup() {
  [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null || true
  [ -n "$vc_port" ] && bash "$shared/peers/start-vcsim.sh" stop "$vc_port" || true
  rm -rf "$work"
}
trap cleanup EXIT
echo pass > "$work/pw"

# COLD=1: empty the page cache (the next start reads its program from disk)
cold() {
  [ "${COLD:-0}" = 1 ] || return 0
  sync
  echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || { echo "COLD=1 needs root" >&2; exit 1; }
}

status() { awk -v k="$2:" '$1 == k {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# median of the list_s values pyvmomi_list.py prints, over $lists runs
pyvmomi_median() {
  local p=$1 n=$2 i out
  for i in $(seq 1 "$lists"); do
    out=$("$python" "$shared/peers/pyvmomi_list.py" 127.0.0.1 "$p" root pass)
    echo "  pyvmomi_list: $out" >&2
    case "$out" in *"count=$n "*) ;; *) echo "pyvmomi_list.py listed the wrong count: $out" >&2; exit 1 ;; esac
    sed -n 's/.*list_s=\([0-9.]*\).*/\1/p' <<< "$out"
  done | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

# load loop; prints "VMs/s MB/s req/s client_cpu server_cpu"
load_run() {
  local p=$1 n=$2 pid=$3 out rounds=${ROUNDS:-$(( (50000 + $2 - 1) / $2 ))}
  echo "  load: $clients clients x $rounds rounds" >&2
  out=$("$load" --url "https://127.0.0.1:$p/sdk" --user root --password pass --clients "$clients" \
    --rounds "$rounds" --seconds "$seconds" --page-size "$page" --expect "$n" --server-pid "$pid")
  echo "  load: $out" >&2
  awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]}}
       END {print f["vms_per_s"], f["mb_per_s"], f["requests_per_s"], f["client_cpu_s"], f["server_cpu_s"]}' <<< "$out"
}

# measure PID on PORT with N VMs; prints one table row after the label
measure() {
  local label=$1 p=$2 n=$3 pid=$4 ready=$5 rss list peak vms mb req ccpu scpu
  rss=$(status "$pid" VmRSS)
  list=$(pyvmomi_median "$p" "$n")
  read -r vms mb req ccpu scpu < <(load_run "$p" "$n" "$pid")
  peak=$(status "$pid" VmHWM)
  printf '| %s | %s | %.2f s | %s MiB | %s MiB | %s s | %s | %s | %s | %s / %s |\n' \
    "$n" "$label" "$ready" "$rss" "$peak" "$list" "$vms" "$mb" "$req" "$scpu" "$ccpu"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; clients=$clients rounds=${ROUNDS:-50000/N} seconds<=$seconds page=$page" >&2
echo "| VMs | server | ready | RSS ready | RSS peak | pyvmomi_list (median of $lists) | VMs/s ($clients clients) | MB/s | requests/s | CPU s server / client |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in "${counts[@]}"; do
  if [ "$only" != vcsim ]; then
    data="$work/data-$n"
    cold
    t0=$(date +%s.%N)
    "$bin" --flavor vcenter --listen "127.0.0.1:$port" --data-dir "$data" \
      --inventory "dc=1,cluster=1,host=3,ds=1,net=1,vm=$n" --password-file "$work/pw" \
      > "$work/out-$n" 2>&1 &
    sim_pid=$!
    for _ in $(seq 1 3000); do grep -q '^ready_s=' "$work/out-$n" && break; sleep 0.02; done
    t1=$(date +%s.%N)
    own=$(sed -n 's/^ready_s=//p' "$work/out-$n")
    [ -n "$own" ] || { echo "esx-sim did not start:" >&2; cat "$work/out-$n" >&2; exit 1; }
    ready=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
    echo "esx-sim $n VMs: launch to ready ${ready}s (its own ready_s=$own)" >&2
    measure esx-sim "$port" "$n" "$sim_pid" "$ready"
    kill -TERM "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=
    rm -rf "$data"
  fi
  if [ "$only" != esx-sim ]; then
    vport=$((port + 1))
    cold
    out=$(bash "$shared/peers/start-vcsim.sh" vc "$n" "$vport")
    eval "$out"
    vc_port=$vport
    echo "vcsim $n VMs: ready_s=$VCSIM_READY_S" >&2
    measure vcsim "$vport" "$n" "$VCSIM_PID" "$VCSIM_READY_S"
    bash "$shared/peers/start-vcsim.sh" stop "$vport"; vc_port=
  fi
done
