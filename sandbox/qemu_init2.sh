#!/bin/busybox sh
# Stage 2 of a wordish qemu guest, PID 1 on the new root (the host's /
# under a tmpfs overlay). The host writes it into the run directory RUN,
# seen here as /run/vmhost, as RUN/init, with M= (the host path of the
# kernel's module tree, in the cache) and guest_setup.sh's functions after
# this first line; beside it
# (run.go): shares (share N is the 9p tag wN), stage3, tty.
# It sets the guest up as the UML one is (pseudo file systems, shares,
# modules, lvm2 without udev), runs stage3 with its stdout and stderr on
# virtio-serial ports found by name (wq.stdout and wq.stderr, or the
# terminals wq.ttyout and wq.ttyerr), writes its exit status to
# RUN/status and reboots, which makes qemu exit (-no-reboot).
#
# A line "stop" on ttyS1 asks for a graceful stop: SIGINT to the command.
B=/bin/busybox
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
P="wordish-qemu init"
# qemu runs with -no-reboot: a reboot ends it
off() { $B reboot -f; }
KV=$($B uname -r)
O="trans=virtio,version=9p2000.L,msize=512000"
$B mount -t sysfs sysfs /sys
# /tmp stays the copy-on-write view of the host's /tmp
guest_dev
n=0
while IFS= read -r d; do
	[ -n "$d" ] || continue
	$B mkdir -p "$d" && $B mount -t 9p -o "$O,cache=none" "w$n" "$d" || fail "share $d"
	n=$((n + 1))
done </run/vmhost/shares
# the kernel's module tree (the cache's)
guest_system

# the output ports, by name: their numbers depend on the probe order;
# the terminals (virtconsole ports) are /dev/hvcN, in the order of their
# port numbers
OUT= ERR= TOUT= TERR= h=0
for p in $(cd /sys/class/virtio-ports && $B ls | $B sort -t p -k 3 -n); do
	case $($B cat "/sys/class/virtio-ports/$p/name" 2>/dev/null) in
	wq.stdout) OUT=/dev/$p ;;
	wq.stderr) ERR=/dev/$p ;;
	wq.ttyout) TOUT=/dev/hvc$h h=$((h + 1)) ;;
	wq.ttyerr) TERR=/dev/hvc$h h=$((h + 1)) ;;
	esac
done
if [ -e /run/vmhost/tty ]; then
	OUT=$TOUT ERR=$TERR
fi
[ -c "$OUT" ] && [ -c "$ERR" ] || fail "no virtio-serial ports for the command's output"
# held open on fds 7 and 8 until the end: the hvc driver resets a
# terminal's settings when its last file closes, so raw mode must be set
# while one is open
exec 7>"$OUT" 8>"$ERR"
if [ -e /run/vmhost/tty ]; then
	$B stty -F "$OUT" raw -echo && $B stty -F "$ERR" raw -echo || fail "stty on the output terminals"
fi

# The control line: "stop" asks for a graceful stop (SIGINT to the
# command), "bye" for the end; other lines (the repeated go lines of a
# resume) are ignored.
$B stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
	while IFS= read -r l; do
		case $l in
		stop) guest_stop ;;
		bye) off ;;
		esac
	done
} </dev/ttyS1 &

echo "$P: ready at $($B cut -d' ' -f1 /proc/uptime)s"
/bin/bash /run/vmhost/stage3 </dev/null >&7 2>&8 7>&- 8>&-
guest_status $?
# A write to a virtio-serial port returns once the data is queued, not
# once the host has it: megabytes may still be on their way. Each port
# ends with the run's nonce, and the host says "bye" when it has read
# both; if it never does, the guest goes anyway.
$B cat /run/vmhost/nonce >&7
$B cat /run/vmhost/nonce >&8
$B sleep 30
echo "$P: the host did not confirm the end of the output"
off
