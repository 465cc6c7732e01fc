#!/usr/bin/env bash
# startup.sh [RUNS]: wall time and peak RSS of `-e 'BEGIN { exit(); }'`
# for trace and bpftrace 0.17, alternating runs, medians and ranges.
# Run as root from the repo root after `make build`.
set -euo pipefail
runs=${1:-20}
trace=${TRACE:-./build/trace}
prog='BEGIN { exit(); }'
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null

measure() { # cmd... -> "seconds kilobytes"
	/usr/bin/time -f '%e %M' -o /tmp/startup.$$ "$@" >/dev/null 2>&1 || true
	cat /tmp/startup.$$
}

declare -A wall rss
tools=(trace)
command -v bpftrace >/dev/null && tools+=(bpftrace)
for ((i = 0; i < runs; i++)); do
	for t in "${tools[@]}"; do
		if [ "$t" = trace ]; then r=$(measure "$trace" -e "$prog"); else r=$(measure bpftrace -e "$prog"); fi
		wall[$t]+="${r% *} "
		rss[$t]+="${r#* } "
	done
done
rm -f /tmp/startup.$$

stats() { # numbers -> "median min max"
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m, a[1], a[NR]}'
}
printf '%-10s %14s %22s %14s %22s\n' tool "wall (s) med" "wall min..max" "RSS (MB) med" "RSS min..max"
for t in "${tools[@]}"; do
	read -r wm wl wh <<<"$(echo "${wall[$t]}" | stats)"
	read -r rm rl rh <<<"$(echo "${rss[$t]}" | stats)"
	printf '%-10s %14s %22s %14.1f %22s\n' "$t" "$wm" "$wl..$wh" "$(echo "$rm/1024" | bc -l)" \
		"$(printf '%.1f..%.1f' "$(echo "$rl/1024" | bc -l)" "$(echo "$rh/1024" | bc -l)")"
done
