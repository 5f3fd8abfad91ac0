#!/usr/bin/env python3
"""Picks the committed seeds out of a fuzzing corpus: the at most MAX_FILES inputs (and
MAX_BYTES bytes) that cover the most edges, by greedy set cover over the features libFuzzer
reports per input with `-set_cover_merge=1 -use_counters=0` (edges without hit counts).

    cover.py FUZZ_BINARY CORPUS_DIR OUT_DIR [MAX_FILES [MAX_BYTES]]

OUT_DIR is replaced. Used for every target with committed seeds (see the fuzz READMEs).
"""
import os
import shutil
import subprocess
import sys
import tempfile

binary, corpus, out = sys.argv[1:4]
max_files = int(sys.argv[4]) if len(sys.argv) > 4 else 150
max_bytes = int(sys.argv[5]) if len(sys.argv) > 5 else 1_000_000
with tempfile.TemporaryDirectory() as tmp:
    control = os.path.join(tmp, "control")
    os.makedirs(os.path.join(tmp, "merged"))
    subprocess.run(
        [binary, "-set_cover_merge=1", "-use_counters=0", "-rss_limit_mb=4096",
         "-merge_control_file=" + control, os.path.join(tmp, "merged"), corpus],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    lines = open(control).read().split("\n")
n = int(lines[0])
files = lines[2:2 + n]
features = {}
for line in lines[2 + n:]:
    parts = line.split()
    if parts and parts[0] == "FT":
        features[int(parts[1])] = set(parts[2:])
every = set().union(*features.values()) if features else set()
size = {i: os.path.getsize(files[i]) for i in features}
chosen, covered, total = [], set(), 0
while len(chosen) < max_files:
    best = max(((len(f - covered), -size[i], i) for i, f in features.items()
                if i not in chosen and total + size[i] <= max_bytes), default=None)
    if best is None or best[0] == 0:
        break
    i = best[2]
    chosen.append(i)
    covered |= features[i]
    total += size[i]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
for i in chosen:
    shutil.copy(files[i], os.path.join(out, os.path.basename(files[i])))
print(f"{len(files)} inputs, {len(every)} features -> {len(chosen)} files, {total} bytes, "
      f"{len(covered)} features ({100 * len(covered) / max(1, len(every)):.1f}%)")
