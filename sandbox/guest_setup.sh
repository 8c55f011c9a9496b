# Functions shared by the guests' init scripts (uml_init.sh,
# qemu_init2.sh): the host puts them after the script's first line when it
# writes RUN/init (guestInit in run.go). They use the script's variables:
# B (busybox), P (the prefix of its console messages), KV (the kernel
# release), M (the kernel's module tree), and its function off (power the
# guest off).

fail() {
	echo "$P: $*"
	$B sync
	off
}

# guest_dev completes /dev: pseudo-terminals, shared memory, the fd links.
guest_dev() {
	$B mkdir -p /dev/pts /dev/shm /run/lock
	$B mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	$B ln -sf pts/ptmx /dev/ptmx
	$B mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
	$B ln -sf /proc/self/fd /dev/fd
	$B ln -sf /proc/self/fd/0 /dev/stdin
	$B ln -sf /proc/self/fd/1 /dev/stdout
	$B ln -sf /proc/self/fd/2 /dev/stderr
}

# guest_system mounts the module tree, with busybox as modprobe (no kmod
# needed), names the guest and sets lvm2 up for a /dev without udev.
guest_system() {
	$B mkdir -p "/lib/modules/$KV"
	$B mount --bind "$M" "/lib/modules/$KV" || fail "module tree $M"
	[ -e /sbin/modprobe ] || $B ln -s /bin/busybox /sbin/modprobe
	$B hostname vm
	$B ln -sf /proc/mounts /etc/mtab 2>/dev/null
	if [ -d /etc/lvm ]; then
		# libdevmapper creates the /dev nodes itself
		printf '%s\n' 'activation {' '	udev_sync = 0' '	udev_rules = 0' '}' >/etc/lvm/lvmlocal.conf
	fi
}

# guest_stop asks the command to stop (SIGINT), so it may clean up; before
# it has started there is nothing to clean up, and the guest goes.
guest_stop() {
	if [ -s /run/wordish-vm.pid ]; then
		echo "$P: stop requested, SIGINT to the command"
		$B kill -INT "$($B cat /run/wordish-vm.pid)"
	else
		echo "$P: stop requested before the command started"
		off
	fi
}

# guest_status records the command's exit status $1 for the host.
guest_status() {
	echo "$P: command exited with status $1"
	echo "$1" >/run/vmhost/status
	$B sync
}
