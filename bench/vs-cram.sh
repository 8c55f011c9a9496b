#!/usr/bin/env bash
# vs-cram.sh - replay the same 1000 trivial steps with wordish and with cram
# (the fastest peer), alternating runs in one session, and print the ratio.
#
# usage: bench/vs-cram.sh [WORDISH_BINARY] [STEPS] [ROUNDS]
# Needs cram3 (apt-get install python3-cram).
set -euo pipefail
bin=${1:-./wordish}
steps=${2:-1000}
rounds=${3:-10}
command -v cram3 >/dev/null || { echo "vs-cram: cram3 missing: apt-get install python3-cram" >&2; exit 2; }
[ -x "$bin" ] || { echo "vs-cram: no wordish binary at $bin (make build)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The same commands and outputs in both tools' syntax.
{
	echo '# Trivial steps'
	echo
	echo '```console'
	for ((i = 0; i < steps; i++)); do printf '$ echo %d\n%d\n' "$i" "$i"; done
	echo '```'
} >"$dir/steps.md"
for ((i = 0; i < steps; i++)); do printf '  $ echo %d\n  %d\n' "$i" "$i"; done >"$dir/steps.t"

# Each tool must pass its article, or the timing means nothing.
"$bin" run "$dir/steps.md" >/dev/null || { echo "vs-cram: wordish failed its article" >&2; exit 1; }
cram3 -q "$dir/steps.t" >/dev/null || { echo "vs-cram: cram failed its test" >&2; exit 1; }

now() { date +%s%N; }
best_w=999999999999 best_c=999999999999 sum_w=0 sum_c=0
for ((r = 0; r < rounds; r++)); do
	t0=$(now); "$bin" run "$dir/steps.md" >/dev/null; t1=$(now)
	cram3 -q "$dir/steps.t" >/dev/null; t2=$(now)
	w=$((t1 - t0)) c=$((t2 - t1))
	sum_w=$((sum_w + w)) sum_c=$((sum_c + c))
	((w < best_w)) && best_w=$w
	((c < best_c)) && best_c=$c
done
ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }
echo "steps: $steps, rounds: $rounds, whole process including start-up"
echo "wordish: best $(ms "$best_w"), mean $(ms $((sum_w / rounds)))"
echo "cram3:   best $(ms "$best_c"), mean $(ms $((sum_c / rounds)))"
awk -v w="$best_w" -v c="$best_c" 'BEGIN { printf "ratio (best cram / best wordish): %.2fx\n", c / w }'
