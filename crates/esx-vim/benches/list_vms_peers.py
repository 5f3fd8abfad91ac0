#!/usr/bin/env python3
"""Issue 3's side-by-side listing figures: our list-vms example beside pyvmomi and govc (and,
optionally, libvirt's virsh), against one vcsim with N VMs, in one run.

usage: crates/esx-vim/benches/list_vms_peers.py [--vms 5000] [--runs 5] [--port 18590]
                                                [--no-build] [--virsh] [--json]

For every client it reports the whole-process wall time (median, min, max of --runs runs,
interleaved round-robin so drift hits every client alike, each run talking to vcsim directly),
and the HTTP requests it made, counted in one extra run through a logging TLS-terminating
reverse proxy started by this script (port+1): the proxy parses every HTTP/1.1 request the
client sends (request line, headers, Content-Length or chunked body), forwards the bytes to
vcsim unchanged, and records method, path and the SOAP operation (first element of the Body).
"Requests after login" counts everything after the Login request, Logout included.

Needs ../shared/peers/setup-peers.sh to have run (vcsim, govc, pyvmomi venv, virsh) and
openssl on PATH (for the proxy's throw-away certificate). Builds the example with
`cargo build --release -p esx-vim --example list-vms` unless --no-build (honours
CARGO_TARGET_DIR). Prints a Markdown table ready for docs/PERFORMANCE.md; with --json also one
`BENCH-JSON {...}` line per client (its times in seconds, requests), for `cargo xtask bench`.
"""
import argparse
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../../.."))
SHARED = os.environ.get("ESX_SHARED", os.path.normpath(os.path.join(ROOT, "../shared")))
PEERS = os.path.join(SHARED, "peers")
START = os.path.join(PEERS, "start-vcsim.sh")
BIN = "/opt/peers/bin"
PY = "/opt/peers/venv/bin/python"
OP_RE = re.compile(rb"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)")


class CountingProxy:
    """A TLS-terminating reverse proxy on 127.0.0.1:listen_port that logs every request."""

    def __init__(self, listen_port, upstream_port, certdir):
        self.upstream_port = upstream_port
        self.requests = []  # (connection number, method, path, operation)
        self.connections = 0
        self.lock = threading.Lock()
        cert, key = os.path.join(certdir, "proxy.pem"), os.path.join(certdir, "proxy.key")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", key, "-out", cert],
            check=True, capture_output=True)
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ctx.load_cert_chain(cert, key)
        self.server_ctx.set_alpn_protocols(["http/1.1"])
        self.client_ctx = ssl.create_default_context()
        self.client_ctx.check_hostname = False
        self.client_ctx.verify_mode = ssl.CERT_NONE
        self.sock = socket.create_server(("127.0.0.1", listen_port))
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.requests, self.connections = [], 0

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw):
        # HTTP/1.1 without pipelining is strictly request -> response, so one thread relays both
        # ways in turn and never uses an SSL socket from two threads at once.
        try:
            client = self.server_ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        with self.lock:
            self.connections += 1
            number = self.connections
        up = self.client_ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", self.upstream_port)),
            server_hostname="127.0.0.1")
        from_client, from_up = client.makefile("rb"), up.makefile("rb")
        try:
            while True:
                request = read_message(from_client)
                if request is None:
                    break
                raw_req, line, body, _ = request
                up.sendall(raw_req)
                parts = line.split()
                method = parts[0].decode() if parts else "?"
                path = parts[1].decode() if len(parts) > 1 else "?"
                m = OP_RE.search(body[:8192])
                with self.lock:
                    self.requests.append((number, method, path, m.group(1).decode() if m else ""))
                response = read_message(from_up, response_to=method)
                if response is None:
                    break
                client.sendall(response[0])
                if response[3]:  # the body ran to the end of the connection
                    break
        except (OSError, ValueError, ssl.SSLError):
            pass
        finally:
            for s in (up, client):
                try:
                    s.close()
                except OSError:
                    pass

    def summary(self):
        with self.lock:
            reqs = list(self.requests)
            conns = self.connections
        ops = [op or f"{m} {p}" for _, m, p, op in reqs]
        login = max((i for i, op in enumerate(ops) if op == "Login"), default=None)
        after = len(ops) - login - 1 if login is not None else None
        return len(reqs), after, conns, ops


def read_message(reader, response_to=None):
    """Reads one HTTP/1.1 message; returns (raw bytes, start line, body, ran_to_eof), or None at
    a clean end of stream. Handles Content-Length, chunked and (responses) read-to-close bodies."""
    line = reader.readline()
    if not line:
        return None
    raw = [line]
    length, chunked = None, False
    while True:
        h = reader.readline()
        if not h:
            raise ValueError("connection closed inside headers")
        raw.append(h)
        if h in (b"\r\n", b"\n"):
            break
        name, _, value = h.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    words = line.split()
    status = words[1] if response_to and len(words) > 1 else b""
    no_body = response_to == "HEAD" or status in (b"204", b"304") or status.startswith(b"1")
    body, to_eof = b"", False
    if no_body:
        pass
    elif chunked:
        parts = []
        while True:
            size_line = reader.readline()
            size = int(size_line.split(b";")[0].strip(), 16)
            raw.append(size_line)
            if size == 0:
                while True:  # optional trailers, then the empty line
                    t = reader.readline()
                    raw.append(t)
                    if t in (b"\r\n", b"\n", b""):
                        break
                break
            data = reader.read(size + 2)
            raw.append(data)
            parts.append(data[:size])
        body = b"".join(parts)
    elif length is not None:
        body = reader.read(length)
        raw.append(body)
    elif response_to is not None:
        body = reader.read()
        raw.append(body)
        to_eof = True
    return b"".join(raw), line, body, to_eof


def start_vcsim(mode, n, port, binary):
    env = dict(os.environ, VCSIM_BIN=binary)
    out = subprocess.run([START, mode, str(n), str(port)], env=env, check=True,
                         capture_output=True, text=True).stdout
    kv = dict(x.split("=", 1) for x in out.split() if "=" in x)
    return float(kv["VCSIM_READY_S"])


def stop_vcsim(port):
    subprocess.run([START, "stop", str(port)], check=False)


def run_once(cmd, env, expect):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"FAILED ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    got = expect(r.stdout)
    return dt, got


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--port", type=int, default=18590)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--virsh", action="store_true", help="also virsh list --all (vcsim-xsi, ESX mode)")
    ap.add_argument("--json", action="store_true", help="also one BENCH-JSON line per client")
    a = ap.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ours = os.path.join(target, "release/examples/list-vms")
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "esx-vim", "--example", "list-vms"],
                       cwd=ROOT, check=True)
    certdir = tempfile.mkdtemp(prefix="list-vms-peers-")
    env = dict(os.environ, P="pass")

    def clients(port):
        url = f"https://127.0.0.1:{port}/sdk"
        genv = dict(env, GOVC_URL=f"https://user:pass@127.0.0.1:{port}/sdk", GOVC_INSECURE="1")
        return [
            ("esx-vim list-vms (ours)",
             [ours, "--url", url, "--user", "user", "--password-env", "P", "--no-verify"], env),
            ("pyvmomi_list.py",
             [PY, os.path.join(PEERS, "pyvmomi_list.py"), "127.0.0.1", str(port), "user", "pass"], env),
            ("govc find / -type m", [f"{BIN}/govc", "find", "/", "-type", "m"], genv),
        ]

    rows, started = [], []
    try:
        started.append(a.port)
        ready = start_vcsim("vc", a.vms, a.port, f"{BIN}/vcsim")
        print(f"vcsim vCenter mode, {a.vms} VMs, ready in {ready:.2f} s", file=sys.stderr)
        proxy = CountingProxy(a.port + 1, a.port, certdir)
        rows += measure(clients, a.port, a, proxy, f"vcsim vCenter, {a.vms} VMs")
        if a.virsh:
            vport = a.port + 2
            started.append(vport)
            ready = start_vcsim("esx", a.vms, vport, f"{BIN}/vcsim-xsi")
            print(f"vcsim-xsi ESX mode, {a.vms} VMs, ready in {ready:.2f} s", file=sys.stderr)
            vproxy = CountingProxy(vport + 1, vport, certdir)
            venv = dict(env, LIBVIRT_AUTH_FILE=os.path.join(PEERS, "libvirt-auth.conf"))

            def virsh(port):
                return [("virsh list --all (libvirt ESX driver)",
                         ["virsh", "-c", f"esx://root@127.0.0.1:{port}/?no_verify=1", "list", "--all"],
                         venv)]
            rows += measure(virsh, vport, a, vproxy, f"vcsim-xsi ESX, {a.vms} VMs", expect_header=True)
    finally:
        for port in started:
            stop_vcsim(port)
        shutil.rmtree(certdir, ignore_errors=True)

    base = next((r for r in rows if r[0].startswith("pyvmomi")), None)
    print(f"\n| client | server | median s | min–max s | × pyvmomi | HTTP requests (after Login) | TLS connections | VMs |")
    print("|---|---|---|---|---|---|---|---|")
    for name, server, ts, total, after, conns, n, ops in rows:
        ratio = f"{statistics.median(ts) / statistics.median(base[2]):.2f}" if base else "–"
        print(f"| {name} | {server} | {statistics.median(ts):.3f} | {min(ts):.3f}–{max(ts):.3f} "
              f"| {ratio} | {total} ({after if after is not None else '?'}) | {conns} | {n} |")
    print()
    for name, server, ts, total, after, conns, n, ops in rows:
        print(f"- {name}: {' → '.join(compress(ops))}")
    if a.json:
        for name, server, ts, total, after, conns, n, ops in rows:
            print("BENCH-JSON " + json.dumps({"client": name, "server": server, "times_s": ts,
                                             "requests": total, "after_login": after,
                                             "connections": conns, "vms": n}))


def measure(make_clients, port, a, proxy, server, expect_header=False):
    direct = make_clients(port)
    proxied = make_clients(proxy.sock.getsockname()[1])
    rows = []
    counts = {}
    for (name, cmd, env) in proxied:
        proxy.reset()
        _, n = run_once(cmd, env, count_vms(expect_header))
        if n != a.vms:
            sys.exit(f"{name} listed {n} VMs through the proxy, expected {a.vms}")
        time.sleep(0.2)  # let the last request (Logout) be logged
        counts[name] = proxy.summary()
    times = {name: [] for name, _, _ in direct}
    for _ in range(a.runs):
        for name, cmd, env in direct:
            dt, n = run_once(cmd, env, count_vms(expect_header))
            if n != a.vms:
                sys.exit(f"{name} listed {n} VMs, expected {a.vms}")
            times[name].append(dt)
            print(f"  {name}: {dt:.3f} s", file=sys.stderr)
    for name, cmd, _ in direct:
        total, after, conns, ops = counts[name]
        rows.append((name, server, times[name], total, after, conns, a.vms, ops))
        print(f"command ({name}): {' '.join(cmd)}", file=sys.stderr)
    return rows


def count_vms(table):
    """Parses the number of VMs a client listed from its stdout."""
    def f(out):
        lines = [l for l in out.splitlines() if l.strip()]
        for line in lines:
            m = re.search(r"\bcount=(\d+)", line)
            if m:
                return int(m.group(1))
        if table:  # virsh: " Id   Name   State" header and a dashed line
            return sum(1 for l in lines[2:])
        return len(lines)
    return f


def compress(ops):
    """['A', 'B', 'B', 'B'] -> ['A', 'B ×3']"""
    out = []
    for op in ops:
        if out and out[-1][0] == op:
            out[-1][1] += 1
        else:
            out.append([op, 1])
    shown = [f"{op} ×{k}" if k > 1 else op for op, k in out]
    if len(shown) <= 16:
        return shown
    totals = {}
    for op in ops:
        totals[op] = totals.get(op, 0) + 1
    summary = ", ".join(f"{op} ×{k}" for op, k in sorted(totals.items(), key=lambda t: -t[1]))
    return shown[:8] + [f"… ({len(shown) - 10} more runs of requests) …"] + shown[-2:] + [f"(in all: {summary})"]


if __name__ == "__main__":
    main()
