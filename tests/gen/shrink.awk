# shrink.awk: prints candidate number N (0-based) of the reductions of a
# script written the way trace_gen writes them (one statement a line, blocks
# opened by a line ending in "{" and closed by a line starting with "}").
# Exits 1 when there is no candidate N. Used by shrink.sh:
#
#   awk -v N=3 -v STAGE=1 -f shrink.awk FILE
#
# STAGE 1, structural: delete a probe, drop a predicate, delete a statement
# (compound ones with their blocks), replace an if/unroll by its first
# block, drop an else branch.
# STAGE 2, within lines: drop one key of a map (at every use), drop one
# printf argument with its conversion, replace a parenthesized group by 0
# or "s", halve a string literal.
# Whatever a candidate breaks, the caller's test rejects it.

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# index of the bracket closing the one at position p of s (1-based), or 0
function close_of(s, p,    open, shut, depth, i, c, instr) {
	open = substr(s, p, 1)
	shut = open == "(" ? ")" : "]"
	depth = 0
	instr = 0
	for (i = p; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (instr) {
			if (c == "\\") i++
			else if (c == "\"") instr = 0
			continue
		}
		if (c == "\"") { instr = 1; continue }
		if (c == "(" || c == "[") depth++
		else if (c == ")" || c == "]") {
			depth--
			if (depth == 0) return i
		}
	}
	return 0
}

function out_lines(skip_from, skip_to, repl,    i) {
	for (i = 1; i <= n; i++) {
		if (i >= skip_from && i <= skip_to) {
			if (i == skip_from && repl != "") print repl
			continue
		}
		print L[i]
	}
}

# candidate bookkeeping: cand() is true when this is candidate N
function cand() {
	return cnt++ == N
}

function done() {
	found = 1
	exit 0
}

# split the inside of s[p..q] (brackets excluded) at top-level commas into A[1..k]
function split_args(s, p, q, A,    k, i, c, depth, instr, start) {
	k = 0
	depth = 0
	instr = 0
	start = p + 1
	for (i = p + 1; i < q; i++) {
		c = substr(s, i, 1)
		if (instr) {
			if (c == "\\") i++
			else if (c == "\"") instr = 0
			continue
		}
		if (c == "\"") { instr = 1; continue }
		if (c == "(" || c == "[") depth++
		else if (c == ")" || c == "]") depth--
		else if (c == "," && depth == 0) {
			A[++k] = trim(substr(s, start, i - start))
			start = i + 1
		}
	}
	if (trim(substr(s, start, q - start)) != "" || k > 0)
		A[++k] = trim(substr(s, start, q - start))
	return k
}

function join_args(A, k, skip,    i, r, first) {
	r = ""
	first = 1
	for (i = 1; i <= k; i++) {
		if (i == skip) continue
		r = r (first ? "" : ", ") A[i]
		first = 0
	}
	return r
}

# every use of map `name` with its key number `j` dropped
function drop_key_line(s, name, j,    out, p, q, k, A, rest, nm, c) {
	out = ""
	for (;;) {
		p = index(s, name "[")
		if (p == 0) break
		# the name must not be the tail of a longer one (@ab vs @b)
		c = p > 1 ? substr(s, p - 1, 1) : ""
		if (c ~ /[A-Za-z0-9_@]/) {
			out = out substr(s, 1, p + length(name))
			s = substr(s, p + length(name) + 1)
			continue
		}
		q = close_of(s, p + length(name))
		if (q == 0) break
		k = split_args(s, p + length(name), q, A)
		rest = join_args(A, k, j)
		out = out substr(s, 1, p - 1) name (rest == "" ? "" : "[" rest "]")
		s = substr(s, q + 1)
	}
	return out s
}

# the conversions of a printf format: starts in CS[], ends in CE[]
function conversions(f,    i, c, k, j) {
	k = 0
	for (i = 1; i <= length(f); i++) {
		c = substr(f, i, 1)
		if (c == "\\") { i++; continue }
		if (c != "%") continue
		if (substr(f, i + 1, 1) == "%") { i++; continue }
		j = i + 1
		while (j <= length(f) && substr(f, j, 1) ~ /[-0-9.+ #]/) j++
		while (j <= length(f) && substr(f, j, 1) ~ /[lhzj]/) j++
		k++
		CS[k] = i
		CE[k] = j
		i = j
	}
	return k
}

{ L[++n] = $0 }

END {
	cnt = 0
	found = 0
	# block structure
	depth = 0
	for (i = 1; i <= n; i++) {
		t = trim(L[i])
		closes[i] = (t ~ /^}/)
		opens[i] = (t ~ /{$/)
		din[i] = depth
		depth = depth - closes[i] + opens[i]
	}
	# end[i]: the line closing the statement (or probe) whose header is line i
	for (i = 1; i <= n; i++) {
		endl[i] = 0
		if (!opens[i] || closes[i]) continue
		for (j = i + 1; j <= n; j++)
			if (closes[j] && !opens[j] && din[j] - 1 == din[i]) { endl[i] = j; break }
	}
	if (STAGE == 1) {
		# probes
		for (i = 1; i <= n; i++)
			if (din[i] == 0 && endl[i] && cand()) { out_lines(i, endl[i], ""); done() }
		# predicates
		for (i = 1; i <= n; i++) {
			if (din[i] != 0 || !opens[i]) continue
			t = L[i]
			if (match(t, / \/.*\/ {$/) && cand()) {
				L[i] = substr(t, 1, RSTART - 1) " {"
				out_lines(0, -1, "")
				done()
			}
		}
		# statements, compound ones with their blocks (outermost first)
		for (i = 1; i <= n; i++) {
			if (din[i] == 0) continue
			if (opens[i] && !closes[i] && endl[i]) {
				if (cand()) { out_lines(i, endl[i], ""); done() }
			} else if (!opens[i] && !closes[i] && trim(L[i]) != "") {
				if (cand()) { out_lines(i, i, ""); done() }
			}
		}
		# if/unroll -> its first block; drop else branches
		for (i = 1; i <= n; i++) {
			if (din[i] == 0 || !opens[i] || closes[i] || !endl[i]) continue
			e = endl[i]
			k = 0
			for (j = i + 1; j < e; j++)
				if (closes[j] && din[j] - 1 == din[i]) { k = j; break }
			if (!k) k = e
			if (cand()) {
				for (j = 1; j <= n; j++)
					if (j < i || (j > i && j < k) || j > e) print L[j]
				done()
			}
			# if (c) { } else { B } -> B (only a plain else)
			if (k != e && trim(L[k]) == "} else {" && cand()) {
				for (j = 1; j <= n; j++)
					if (j < i || (j > k && j < e) || j > e) print L[j]
				done()
			}
			if (k != e && cand()) {
				for (j = 1; j <= n; j++) {
					if (j == k) { sub(/}.*/, "}", L[j]); print L[j]; continue }
					if (j > k && j <= e) continue
					print L[j]
				}
				done()
			}
		}
		exit 1
	}
	# STAGE 2
	# map keys: each map name once, each key position
	for (i = 1; i <= n; i++) {
		s = L[i]
		while (match(s, /@[A-Za-z0-9_]*\[/)) {
			name = substr(s, RSTART, RLENGTH - 1)
			q = close_of(s, RSTART + RLENGTH - 1)
			if (!(name in seen_map)) {
				seen_map[name] = 1
				nk = q ? split_args(s, RSTART + RLENGTH - 1, q, A) : 0
				for (j = 1; j <= nk; j++) {
					if (cand()) {
						for (x = 1; x <= n; x++) print drop_key_line(L[x], name, j)
						done()
					}
				}
			}
			s = substr(s, RSTART + RLENGTH)
		}
	}
	# printf arguments
	for (i = 1; i <= n; i++) {
		t = L[i]
		p = index(t, "printf(\"")
		if (!p) continue
		q = close_of(t, p + 6)
		if (!q) continue
		k = split_args(t, p + 6, q, A)
		f = A[1]
		nc = conversions(f)
		for (j = 2; j <= k && j - 1 <= nc; j++) {
			if (!cand()) continue
			c = j - 1
			nf = substr(f, 1, CS[c] - 1) substr(f, CE[c] + 1)
			A[1] = nf
			L[i] = substr(t, 1, p + 6) join_args(A, k, j) substr(t, q)
			out_lines(0, -1, "")
			done()
		}
	}
	# tuple literals: drop one element
	for (i = 1; i <= n; i++) {
		t = L[i]
		for (p = 1; p <= length(t); p++) {
			if (substr(t, p, 1) != "(") continue
			prev = p > 1 ? substr(t, p - 1, 1) : ""
			if (prev ~ /[A-Za-z0-9_"]/) continue
			q = close_of(t, p)
			if (!q) continue
			k = split_args(t, p, q, A)
			if (k < 3) continue
			for (j = 1; j <= k; j++) {
				if (!cand()) continue
				L[i] = substr(t, 1, p) join_args(A, k, j) substr(t, q)
				out_lines(0, -1, "")
				done()
			}
		}
	}
	# parenthesized groups (not calls, not casts) -> 0 or "s"
	for (i = 1; i <= n; i++) {
		t = L[i]
		instr = 0
		for (p = 1; p <= length(t); p++) {
			c = substr(t, p, 1)
			if (instr) {
				if (c == "\\") p++
				else if (c == "\"") instr = 0
				continue
			}
			if (c == "\"") { instr = 1; continue }
			if (c != "(") continue
			prev = p > 1 ? substr(t, p - 1, 1) : ""
			if (prev ~ /[A-Za-z0-9_]/) continue
			q = close_of(t, p)
			if (!q) continue
			inner = substr(t, p + 1, q - p - 1)
			if (inner ~ /^u?int(8|16|32|64)$/) continue
			if (inner == "0" || inner == "\"s\"") continue
			if (cand()) {
				L[i] = substr(t, 1, p - 1) "0" substr(t, q + 1)
				out_lines(0, -1, "")
				done()
			}
			if (cand()) {
				L[i] = substr(t, 1, p - 1) "\"s\"" substr(t, q + 1)
				out_lines(0, -1, "")
				done()
			}
		}
	}
	# string literals: keep the first half
	for (i = 1; i <= n; i++) {
		t = L[i]
		p = 1
		while (p <= length(t)) {
			c = substr(t, p, 1)
			if (c != "\"") { p++; continue }
			for (q = p + 1; q <= length(t); q++) {
				c = substr(t, q, 1)
				if (c == "\\") { q++; continue }
				if (c == "\"") break
			}
			len = q - p - 1
			# printf formats are shrunk through their arguments
			if (len > 1 && substr(t, 1, p) !~ /printf\($/ && cand()) {
				L[i] = substr(t, 1, p) substr(t, p + 1, int(len / 2)) substr(t, q)
				out_lines(0, -1, "")
				done()
			}
			p = q + 1
		}
	}
	exit 1
}
