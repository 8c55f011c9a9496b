#!/usr/bin/env bash
# floor.sh - how close wordish comes to the physical floor: bash running
# the same commands as a plain script. Two generated workloads:
#
#   W1  1000 trivial steps ($ echo N / N): the per-step overhead
#   W2  200 steps of 50 lines of output each ($ seq N N+49): output and forks
#
# Each is run as whole processes (start-up included) by wordish, by cram
# (the fastest peer; cram3 from python3-cram, installed if missing) and by
# bash on the plain script, alternating the three in every round so that
# a change of the machine's load hits all of them alike. It prints the
# median of the rounds and the ratios wordish/bash and wordish/cram.
# For scale it also times bash on the plain script with its output on a
# terminal (util-linux script(1) reading it), as commands run in
# wordish: a terminal costs a write per line of seq's output and a
# wake-up of the reader per write.
#
# usage: bench/floor.sh [WORDISH_BINARY] [ROUNDS]   (ROUNDS >= 7, default 11)
set -euo pipefail
bin=${1:-./wordish}
rounds=${2:-11}
((rounds >= 7)) || { echo "floor: at least 7 rounds" >&2; exit 2; }
[ -x "$bin" ] || { echo "floor: no wordish binary at $bin (make build)" >&2; exit 2; }
if ! command -v cram3 >/dev/null; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "floor: installing python3-cram" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-cram >/dev/null ||
		{ echo "floor: cram3 missing and not installable: apt-get install python3-cram" >&2; exit 2; }
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# gen NAME STEPS LINES: the same commands and outputs as a wordish
# article, a cram test and a plain bash script. LINES=1 is "echo N",
# otherwise "seq N N+LINES-1".
gen() {
	local name=$1 steps=$2 lines=$3 i j cmd
	{
		echo '# Generated'
		echo
		echo '```console'
	} >"$dir/$name.md"
	: >"$dir/$name.t"
	: >"$dir/$name.sh"
	for ((i = 0; i < steps; i++)); do
		if ((lines == 1)); then
			cmd="echo $i"
		else
			cmd="seq $i $((i + lines - 1))"
		fi
		printf '$ %s\n' "$cmd" >>"$dir/$name.md"
		printf '  $ %s\n' "$cmd" >>"$dir/$name.t"
		printf '%s\n' "$cmd" >>"$dir/$name.sh"
		for ((j = i; j < i + lines; j++)); do
			echo "$j" >>"$dir/$name.md"
			echo "  $j" >>"$dir/$name.t"
		done
	done
	echo '```' >>"$dir/$name.md"
}
gen w1 1000 1
gen w2 200 50

# Each tool must pass its test, or the timing means nothing.
for w in w1 w2; do
	"$bin" run "$dir/$w.md" >/dev/null || { echo "floor: wordish failed $w" >&2; exit 1; }
	cram3 -q "$dir/$w.t" >/dev/null || { echo "floor: cram failed $w" >&2; exit 1; }
	bash --noprofile --norc "$dir/$w.sh" >/dev/null || { echo "floor: bash failed $w" >&2; exit 1; }
done
pty=
command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1 && pty=1

# usec CMD...: runs CMD with its output discarded and prints its wall
# time in microseconds ($EPOCHREALTIME: no process started to read the clock).
usec() {
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	"$@" >/dev/null
	t1=${EPOCHREALTIME/[.,]/}
	echo $((t1 - t0))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%8.1f ms", u / 1000 }'; }

echo "floor: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $rounds alternating rounds, median wall time of whole processes"
printf '%-4s %-22s %11s %11s %11s %13s %13s %11s %12s\n' "" workload wordish cram3 bash wordish/bash wordish/cram "bash (pty)" wordish/pty
for w in w1 w2; do
	rm -f "$dir/$w.wordish" "$dir/$w.cram" "$dir/$w.bash" "$dir/$w.pty"
	for ((r = 0; r < rounds; r++)); do
		usec "$bin" run "$dir/$w.md" >>"$dir/$w.wordish"
		usec cram3 -q "$dir/$w.t" >>"$dir/$w.cram"
		usec bash --noprofile --norc "$dir/$w.sh" >>"$dir/$w.bash"
		if [ -n "$pty" ]; then
			usec script -qec "bash --noprofile --norc $dir/$w.sh" /dev/null >>"$dir/$w.pty"
		fi
	done
	mw=$(median <"$dir/$w.wordish") mc=$(median <"$dir/$w.cram") mb=$(median <"$dir/$w.bash")
	mp= rp=
	if [ -n "$pty" ]; then
		mp=$(median <"$dir/$w.pty")
		rp=$(awk -v a="$mw" -v b="$mp" 'BEGIN { printf "%.2fx", a / b }')
		mp=$(ms "$mp")
	fi
	case $w in
	w1) what="1000 steps, echo N" ;;
	w2) what="200 steps, seq N N+49" ;;
	esac
	printf '%-4s %-22s %s %s %s %12.2fx %12.2fx %11s %12s\n' "${w^^}" "$what" "$(ms "$mw")" "$(ms "$mc")" "$(ms "$mb")" \
		"$(awk -v a="$mw" -v b="$mb" 'BEGIN { print a / b }')" "$(awk -v a="$mw" -v b="$mc" 'BEGIN { print a / b }')" "$mp" "$rp"
done
echo "floor: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
