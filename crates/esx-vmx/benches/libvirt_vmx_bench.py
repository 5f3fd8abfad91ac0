#!/usr/bin/python3
"""Time libvirt's own VMX <-> domain XML converter (python3-libvirt, ESX driver) over the
libvirt VMX corpus, on ONE connection, so only the conversions are measured.

usage: libvirt_vmx_bench.py URI CORPUS_DIR [ROUNDS]
  URI         e.g. esx://root@127.0.0.1:18690/?no_verify=1 (vcsim-xsi; user/password from
              $VCSIM_USER / $VCSIM_PASS, default root / pass)
  CORPUS_DIR  directory holding vmx2xml-cases.tsv and xml2vmx-cases.tsv
  ROUNDS      timed passes over the corpus per direction (default 20); the median is reported

libvirt's ESX driver resolves every /vmfs/volumes/<ds>/ file name and every "[ds] path" against
the server's datastores (one SOAP lookup each), so the inputs are given the simulator's datastore
name (LocalDS_0) first; files libvirt still rejects are listed and left out of the timing.
Prints one JSON object per direction: files, bytes, median (and min, max, every) seconds per
pass, files/s, MB/s.
"""
import json
import os
import re
import statistics
import sys
import time

import libvirt


def auth_cb(creds, _opaque):
    for cred in creds:
        if cred[0] == libvirt.VIR_CRED_AUTHNAME:
            cred[4] = os.environ.get("VCSIM_USER", "root")
        elif cred[0] == libvirt.VIR_CRED_PASSPHRASE:
            cred[4] = os.environ.get("VCSIM_PASS", "pass")
    return 0


def case_inputs(corpus, tsv):
    """Input paths of the cases in a *-cases.tsv file, skipping parse-fails cases."""
    out = []
    with open(os.path.join(corpus, tsv), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 3 and cols[3] == "parse-fails":
                continue
            out.append(os.path.join(corpus, cols[1]))
    return out


def on_simulator_datastore(text, direction):
    if direction == "vmx2xml":
        return re.sub(r"/vmfs/volumes/[^/\"]+/", "/vmfs/volumes/LocalDS_0/", text)
    return re.sub(r"\[[^\]]+\] ", "[LocalDS_0] ", text)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    uri, corpus = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    t0 = time.perf_counter()
    conn = libvirt.openAuth(
        uri, [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], auth_cb, None], 0
    )
    connect_s = time.perf_counter() - t0
    directions = [
        ("vmx2xml", "vmx2xml-cases.tsv", lambda t: conn.domainXMLFromNative("vmware-vmx", t, 0)),
        ("xml2vmx", "xml2vmx-cases.tsv", lambda t: conn.domainXMLToNative("vmware-vmx", t, 0)),
    ]
    for name, tsv, convert in directions:
        inputs, rejected = [], []
        for path in case_inputs(corpus, tsv):
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = on_simulator_datastore(f.read(), name)
            try:
                convert(text)
                inputs.append(text)
            except libvirt.libvirtError as e:
                rejected.append(f"{os.path.basename(path)}: {e.get_error_message()}")
        size = sum(len(t.encode("utf-8", "surrogateescape")) for t in inputs)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for text in inputs:
                convert(text)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(json.dumps({
            "direction": name,
            "files": len(inputs),
            "bytes": size,
            "rounds": rounds,
            "median_s_per_pass": round(median, 6),
            "min_s_per_pass": round(min(times), 6),
            "max_s_per_pass": round(max(times), 6),
            "times_s": [round(t, 6) for t in times],
            "files_per_s": round(len(inputs) / median, 1),
            "mb_per_s": round(size / median / 1e6, 3),
            "connect_s": round(connect_s, 3),
            "rejected": rejected,
        }, indent=1))
    conn.close()


if __name__ == "__main__":
    main()
