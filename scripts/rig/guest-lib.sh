# SPDX-License-Identifier: GPL-2.0
# Guest side of the rig (runs inside the emulated PC, busybox sh): helpers
# shared by /init and /bin/hostrun. Installed as /lib/vsnix/guest-lib.sh.

HOST_ROOT=/host

# The virtio device binds asynchronously after insmod: wait up to 5 s for
# the 9p export's tag (it reads "host\0").
host_tag_present() {
	local try=0 tag

	[ -d /sys/bus/pci/drivers/virtio-pci ] || return 1
	while [ $try -lt 50 ]; do
		for tag in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
			[ "$(tr -d '\0' <"$tag" 2>/dev/null)" = host ] && return 0
		done
		usleep 100000
		try=$((try + 1))
	done
	return 1
}

# The Bochs machine's host root: a disc (scripts/rig/hostroot.sh) on its
# second ATA drive. ata_piix finds the drives asynchronously: wait up to
# 30 s for a /dev/sr* that mounts and carries the image's marker (the
# first one is the boot ISO). Bochs showed both drives within the module
# loads (scripts/rig/README.md).
host_mount_disc() {
	local mod try=0 dev

	for mod in $(ls /lib/rig-modules-disk | sort); do
		insmod "/lib/rig-modules-disk/$mod" 2>/dev/null
	done
	mkdir -p "$HOST_ROOT"
	while [ $try -lt 300 ]; do
		for dev in /dev/sr*; do
			[ -b "$dev" ] || continue
			mount -t iso9660 -o ro "$dev" "$HOST_ROOT" 2>/dev/null || continue
			[ -e "$HOST_ROOT/.vsnix-hostroot" ] && return 0
			umount "$HOST_ROOT"
		done
		usleep 100000
		try=$((try + 1))
	done
	return 1
}

# Mount the host's root filesystem, exported read-only over virtio-9p by
# QEMU, or the disc that stands for it on Bochs. Returns 1 where there is
# neither (QEMU without -virtfs).
host_mount() {
	local mod

	mountpoint -q "$HOST_ROOT" 2>/dev/null && return 0
	if [ -d /lib/rig-modules-disk ]; then
		host_mount_disc
		return
	fi
	# The stock kernel has 9p and virtio as modules; the debug kernel has
	# them built in and ships no /lib/rig-modules.
	for mod in $(ls /lib/rig-modules 2>/dev/null | sort); do
		insmod "/lib/rig-modules/$mod" 2>/dev/null
	done
	host_tag_present || return 1
	mkdir -p "$HOST_ROOT"
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host "$HOST_ROOT"
}

# Make the host root usable as a chroot: the guest's /proc /sys /dev /tmp
# over it (bind mounts over the read-only 9p directories are fine) and a
# writable /run. Done once; later calls return at once.
host_prepare() {
	local dir

	[ -e /run/vsnix-host-ready ] && return 0
	# A PC without the disc or any virtio device never gets one: say so
	# once, or every later hostrun waits for it again.
	[ -e /run/vsnix-host-none ] && return 1
	if ! host_mount; then
		if [ -d /lib/rig-modules-disk ] ||
		   ! cat /sys/bus/pci/devices/*/vendor 2>/dev/null | grep -q 0x1af4; then
			mkdir -p /run
			touch /run/vsnix-host-none
		fi
		return 1
	fi
	for dir in proc sys dev tmp; do
		mount --bind "/$dir" "$HOST_ROOT/$dir" || return 1
	done
	mount -t tmpfs -o mode=0755 run "$HOST_ROOT/run" || return 1
	touch /run/vsnix-host-ready
}

# Run a host command in the chroot with a host-like environment. systemd's
# tools refuse to act in a chroot unless SYSTEMD_IGNORE_CHROOT is set.
host_exec() {
	env -i HOME=/root TERM=dumb LANG=C SYSTEMD_IGNORE_CHROOT=1 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		chroot "$HOST_ROOT" "$@"
}
