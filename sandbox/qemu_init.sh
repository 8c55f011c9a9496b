#!/bin/busybox sh
# Stage 1 of a wordish qemu guest: /init of the initramfs that wordish
# writes (sandbox/kernel.go), with busybox and the boot modules in /m.
#
# It loads the modules (in the order of /m/list), then:
#   - wq_probe=1 (a KVM probe boot): says so on the console and stops;
#   - wq_snap=1: says "snapshot point" and waits on ttyS1 for a line
#     "go EPOCH ENTROPY end". The host saves the guest here, once, and
#     later runs resume that saved state and send the line (again and
#     again: bytes that arrive while qemu is still loading the state are
#     lost), so the clock and the random pool are set from it. This point
#     comes before any 9p mount: qemu refuses to save a guest that has one.
# Then it mounts the host's / (9p tag hostroot, read-only) under a tmpfs
# overlay, the run directory (tag vmhost) on /run/vmhost, and switches to
# stage 2, RUN/init (qemu_init2.sh), written by the host for this run.
#
# Kernel command-line words like wq_snap=1 reach this script as variables.
B=/bin/busybox
fail() {
	echo "wordish-qemu initramfs: $*"
	$B reboot -f
}
$B mount -t proc proc /proc
$B mount -t devtmpfs devtmpfs /dev
if [ "${wq_probe:-0}" = 1 ]; then
	echo "wordish-qemu: probe ok"
	$B reboot -f
fi
while read -r m; do
	$B insmod "/m/$m" || fail "insmod $m"
done </m/list
if [ "${wq_snap:-0}" = 1 ]; then
	$B stty -F /dev/ttyS1 raw -echo || fail "stty ttyS1"
	echo "wordish-qemu: snapshot point"
	while :; do
		IFS=' ' read -r w t r e </dev/ttyS1 || continue
		[ "$w" = go ] && [ "$e" = end ] || continue
		case $t in '' | *[!0-9]*) continue ;; esac
		break
	done
	$B date -s "@$t" >/dev/null
	echo "$r" >/dev/urandom
	echo "wordish-qemu: resumed"
fi
o="trans=virtio,version=9p2000.L,msize=512000"
$B mount -t 9p -o "$o,ro,cache=loose" hostroot /lower || fail "9p mount of the host's /"
$B mount -t tmpfs -o mode=755 tmpfs /ov || fail "tmpfs"
$B mkdir -p /ov/upper /ov/work
$B mount -t overlay -o lowerdir=/lower,upperdir=/ov/upper,workdir=/ov/work overlay /newroot || fail "overlay"
$B mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /newroot/run || fail "tmpfs /run"
$B mkdir -p /newroot/run/vmhost
$B mount -t 9p -o "$o,cache=none" vmhost /newroot/run/vmhost || fail "9p mount of the run directory"
$B mount --move /dev /newroot/dev
$B mount --move /proc /newroot/proc
exec $B switch_root /newroot /bin/busybox sh /run/vmhost/init
