#!/bin/busybox sh
# PID 1 of a wordish sandbox guest (User-Mode Linux). Embedded in the
# wordish binary (sandbox/uml.go) and written, with guest_setup.sh's
# functions after this line, to the run directory RUN, which the kernel
# gets as: init=RUN/init ... -- RUN
#
# The guest root is the host's own / through hostfs, read-only; this script
# puts a tmpfs overlay on top of it, pivots into it, loads loop, dm-mod and
# dm-snapshot, sets lvm2 up to work without udev, runs RUN/stage3 (written by
# the host: the command under /bin/bash with a clean environment), writes its
# exit status to RUN/status and powers off.
#
# Every busybox applet is called as "$B APPLET": until the guest's /proc is
# mounted, /proc/self/exe is the host's (linux.uml), so busybox must not
# re-execute itself through it.
#
# Serial lines: ttyS0 and ttyS1 carry the command's stdout and stderr to the
# host; the host writes a line to ttyS2 to ask for a graceful stop (SIGINT
# to the command). The console (this script's own output) is the host's log.
B=/bin/busybox
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
RUN=$1
KV=$($B uname -r)
M=/usr/lib/uml/modules/$KV
P="wordish-vm init"
off() { $B poweroff -f; }

# stage 1: a writable overlay on top of the read-only host root, then pivot
$B mount -t proc proc /proc
$B mount -t tmpfs -o mode=755 tmpfs /tmp || fail "tmpfs"
$B mkdir -p /tmp/ov/lower /tmp/ov/upper /tmp/ov/work /tmp/ov/root
$B insmod $M/kernel/fs/overlayfs/overlay.ko || fail "overlay module"
$B mount -t hostfs -o ro,/ none /tmp/ov/lower || fail "hostfs /"
$B mount -t overlay -o lowerdir=/tmp/ov/lower,upperdir=/tmp/ov/upper,workdir=/tmp/ov/work overlay /tmp/ov/root || fail "overlay mount"
$B mount --move /dev /tmp/ov/root/dev
$B mount --move /proc /tmp/ov/root/proc
cd /tmp/ov/root && $B mkdir -p .oldroot && $B pivot_root . .oldroot || fail "pivot_root"
$B umount -l /.oldroot
$B rmdir /.oldroot

# stage 2: pseudo filesystems, a fresh /run, the run directory, shares
$B mount -t sysfs sysfs /sys
$B mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
# /tmp stays the copy-on-write view of the host's /tmp
$B mkdir -p /run/vmhost
guest_dev
$B mount -t hostfs -o "$RUN" none /run/vmhost || fail "hostfs $RUN"
while IFS= read -r d; do
	[ -n "$d" ] || continue
	$B mkdir -p "$d" && $B mount -t hostfs -o "$d" none "$d" || fail "share $d"
done </run/vmhost/shares

# kernel modules: the UML tree
guest_system
for m in loop dm-mod dm-snapshot; do
	$B modprobe $m || echo "$P: modprobe $m failed"
done
for t in ttyS0 ttyS1 ttyS2; do
	$B stty -F /dev/$t raw -echo 2>/dev/null
done

# the stop watcher: a line on ttyS2 asks the command to stop
{
	IFS= read -r _ </dev/ttyS2
	guest_stop
} &

echo "$P: ready at $($B cut -d' ' -f1 /proc/uptime)s"
if [ -e /run/vmhost/tty ]; then
	# the host's output is a terminal: give the command the serial lines
	/bin/bash /run/vmhost/stage3 </dev/null >/dev/ttyS0 2>/dev/ttyS1
	rc=$?
else
	# otherwise pipes, so the command sees what it would see on the host
	$B mkfifo /run/wordish-vm.out /run/wordish-vm.err
	$B cat /run/wordish-vm.out >/dev/ttyS0 &
	c1=$!
	$B cat /run/wordish-vm.err >/dev/ttyS1 &
	c2=$!
	/bin/bash /run/vmhost/stage3 </dev/null >/run/wordish-vm.out 2>/run/wordish-vm.err
	rc=$?
	# a daemon the command left behind may hold the pipes: do not wait forever
	{ $B sleep 5; $B kill $c1 $c2 2>/dev/null; } </dev/null >/dev/null 2>&1 &
	wait $c1 $c2
fi
guest_status $rc
off
