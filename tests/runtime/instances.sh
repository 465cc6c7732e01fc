#!/usr/bin/env bash
# instances.sh N PROG: runs N traces of PROG at once (issue 16, item 3).
#
# Prints "Attaching" once every trace has attached (run.sh starts the
# workload then), waits for all of them (the case's SIGINT reaches each: they
# share its process group), then prints for each, in order, its exit status
# and how many events its printf lines ("e") and its "Lost N events" lines
# account for together, then its other lines (maps, errors).
set -u
n=$1 prog=$2
trap '' INT # the SIGINT is for the traces; this shell reports them
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pids=()
for i in $(seq 1 "$n"); do
	"$TRACE" -e "$prog" >"$dir/$i" 2>&1 &
	pids+=($!)
done
for i in $(seq 1 "$n"); do
	until grep -q '^Attaching' "$dir/$i" || ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; do
		sleep 0.1
	done
done
echo Attaching
for i in $(seq 1 "$n"); do
	wait "${pids[$((i - 1))]}"
	echo "trace $i: exit $?, events $(awk '$0 == "e" { n++ } /^Lost [0-9]+ events$/ { n += $2 } END { print n + 0 }' "$dir/$i")"
	grep -v -e '^Attaching' -e '^e$' -e '^Lost [0-9]* events$' -e '^$' "$dir/$i"
done
