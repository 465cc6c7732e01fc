#!/usr/bin/env python3
"""check_consistent.py: checks maps printed while probes update them.

Reads trace's text output on stdin: print(@a), print(@k) lines from an
interval probe while the workload runs, then the maps at exit. The probe
adds 5 to @a and @b, 7 to @k[1] and 1 to @c per event (per-CPU sums).
What a reader can rely on, and what is checked:
- every printed sum is whole: a multiple of its step (the per-CPU 64-bit
  words are never seen half-written);
- successive prints of one map never decrease (each is a sum of per-CPU
  counters that only grow);
- at exit, with the workload done, @a == @b == 5 * @c and @k[1] == 7 * @c.
Not checked, because it does not hold: @a == @b while running (two maps are
read one after the other, while events keep coming).
Prints "final @c N" and "ok", or what failed (exit 1). SIGINT is ignored (the
case interrupts the trace before it).
"""
import re
import signal
import sys

signal.signal(signal.SIGINT, signal.SIG_IGN)
last = {"@a": -1, "@k": -1}
final = {}
bad = 0
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("Attaching"):  # run.sh starts the workload on it
        print(line, flush=True)
    m = re.match(r"^(@a|@b|@c|@k)(\[1\])?: (-?\d+)$", line)
    if not m:
        continue
    name, v = m.group(1), int(m.group(3))
    step = {"@a": 5, "@b": 5, "@k": 7, "@c": 1}[name]
    if v % step:
        print(f"torn: {line} is not a multiple of {step}")
        bad += 1
    if name in last:
        if v < last[name]:
            print(f"decreased: {line} after {last[name]}")
            bad += 1
        last[name] = v
    final[name] = v
c = final.get("@c")
if c is None or final.get("@a") != 5 * c or final.get("@b") != 5 * c or final.get("@k") != 7 * c:
    print(f"final values disagree: {final}")
    bad += 1
print(f"final @c {c}")
print("ok" if not bad else f"{bad} failure(s)")
sys.exit(1 if bad else 0)
