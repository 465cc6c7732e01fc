#!/usr/bin/env python3
"""json_lines.py [--count] [--stop-after TYPE]: checks trace -f json output.

Reads stdin line by line and parses every line with json.loads (a line that
is not one JSON object fails the run: exit 1). Prints each record again as
json.dumps(sort_keys=True, ensure_ascii=True), so a case compares values,
not spacing, and bytes outside ASCII show as \\uXXXX. An attached_probes
record also prints "Attaching (json)" first, which run.sh waits for before
it starts a case's workload.

--count: instead of the records, print per type how many came, and the sum
of lost_events counts ("lost=N").
--stop-after TYPE: on the first record of TYPE, send SIGINT to the
process group (the trace before us in the pipeline): passes only if trace
flushed that record while running.
"""
import json
import os
import signal
import sys


def main():
    count = "--count" in sys.argv
    stop = sys.argv[sys.argv.index("--stop-after") + 1] if "--stop-after" in sys.argv else None
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    counts, lost, bad = {}, 0, 0
    for n, line in enumerate(sys.stdin.buffer, 1):
        try:
            obj = json.loads(line.decode("utf-8"))
            if not isinstance(obj, dict) or "type" not in obj:
                raise ValueError("not an object with a type")
        except (ValueError, UnicodeDecodeError) as e:
            print(f"json_lines: line {n} is not valid: {e}: {line!r}", flush=True)
            bad += 1
            continue
        t = obj["type"]
        if t == "attached_probes":
            print("Attaching (json)", flush=True)
        counts[t] = counts.get(t, 0) + 1
        if t == "lost_events":
            lost += obj["data"]["events"]
        if not count:
            print(json.dumps(obj, sort_keys=True, ensure_ascii=True), flush=True)
        if stop and t == stop:
            stop = None
            os.killpg(os.getpgrp(), signal.SIGINT)
    if count:
        for t in sorted(counts):
            print(f"{t}={counts[t]}")
        print(f"lost={lost}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
