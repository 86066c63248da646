// SPDX-License-Identifier: GPL-2.0
/*
 * Stats fds (VSNIX_CAP_STATS) and the VM list (VSNIX_CAP_VM_LIST): the
 * self-describing format (header, id, descriptors, values), counters that
 * match what a guest did (K port writes to userspace, one ucall), the VM's
 * sums against its vCPU's, names and ids, the owner check, bad arguments.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vsnix_util.h"
#include "vsnix/stats.h"

#define NR_TESTS	24
#define K_WRITES	17
#define TEST_PORT	0x600

static void guest_writes(void)
{
	int i;

	for (i = 0; i < K_WRITES; i++)
		guest_outb(TEST_PORT, i);
	GUEST_DONE();
}

/* Header and descriptors as a reader checks them, without libvsnix. */
static bool check_format(int fd, uint32_t vm_id, bool is_vm)
{
	struct vsnix_stats_header h;
	char id[64] = "", want[64];
	uint8_t *descs;
	bool ok = true;
	uint32_t i, j;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return false;
	if (h.magic != VSNIX_STATS_MAGIC || h.version != VSNIX_STATS_VERSION ||
	    h.flags || !h.nr_desc || !h.name_size ||
	    h.desc_size < sizeof(struct vsnix_stats_desc) + h.name_size ||
	    h.id_offset < sizeof(h) || h.desc_offset <= h.id_offset ||
	    h.data_offset < h.desc_offset + h.nr_desc * h.desc_size ||
	    h.data_size != h.nr_desc * 8) {
		tap_diag("bad header: magic %#x nr %u", h.magic, h.nr_desc);
		return false;
	}
	pread(fd, id, sizeof(id) - 1, h.id_offset);
	snprintf(want, sizeof(want), is_vm ? "vm%u" : "vm%u/vcpu0", vm_id);
	if (strcmp(id, want)) {
		tap_diag("id '%s', want '%s'", id, want);
		ok = false;
	}
	descs = malloc(h.nr_desc * h.desc_size);
	if (pread(fd, descs, h.nr_desc * h.desc_size, h.desc_offset) !=
	    (ssize_t)(h.nr_desc * h.desc_size))
		return false;
	for (i = 0; i < h.nr_desc; i++) {
		struct vsnix_stats_desc *d = (void *)(descs + i * h.desc_size);

		if (!memchr(d->name, 0, h.name_size) || !d->name[0] ||
		    d->count != 1 || d->offset % 8 || d->offset >= h.data_size ||
		    d->reserved || (d->flags & ~0xffu) ||
		    (d->flags & VSNIX_STATS_TYPE_MASK) > VSNIX_STATS_TYPE_INSTANT ||
		    (d->flags & VSNIX_STATS_UNIT_MASK) > VSNIX_STATS_UNIT_NS) {
			tap_diag("bad descriptor %u", i);
			ok = false;
		}
		for (j = 0; j < i; j++) {
			struct vsnix_stats_desc *e = (void *)(descs + j * h.desc_size);

			if (!strcmp(d->name, e->name) || d->offset == e->offset) {
				tap_diag("descriptors %u and %u clash (%s)", j, i, d->name);
				ok = false;
			}
		}
	}
	free(descs);
	return ok;
}

static struct vx_stats *parse(int fd)
{
	struct vx_stats *s;

	TEST_ASSERT(fd >= 0, "stats fd: %s", strerror(errno));
	TEST_ASSERT(!vx_stats_parse(fd, &s), "parse");
	TEST_ASSERT(!vx_stats_read(s), "read");
	return s;
}

static void bad_args(int sys, struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu,
		     uint32_t id)
{
	struct vsnix_stats_fd_req req = { .vm_id = id, .vcpu = VSNIX_STATS_VM };
	struct vsnix_vm_list list = { 0 };
	struct vsnix_vm_name name = { .name = "bad\nname" };
	bool ok;

	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_GET_STATS_FD, 1), EINVAL, "VM fd, arg 1") &&
	       expect_errno(ioctl(vcpu->fd, VSNIX_GET_VCPU_STATS_FD, 1), EINVAL, "vCPU, arg 1"),
	       "GET_STATS_FD with a non-zero argument: EINVAL");
	req.flags = 1;
	tap_ok(expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req), EINVAL, "flags"),
	       "STATS_FD_BY_ID with flags: EINVAL");
	req.flags = 0;
	req.reserved[1] = 1;
	tap_ok(expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req), EINVAL, "reserved"),
	       "STATS_FD_BY_ID with reserved set: EINVAL");
	req.reserved[1] = 0;
	req.vm_id = 0;
	tap_ok(expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req), ENOENT, "id 0") &&
	       (req.vm_id = id + 1000, expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req),
						    ENOENT, "unknown id")),
	       "STATS_FD_BY_ID of no VM: ENOENT");
	req.vm_id = id;
	req.vcpu = 5;
	tap_ok(expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req), ENOENT, "vcpu 5") &&
	       (req.vcpu = 0x7fffffff, expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req),
						    ENOENT, "vcpu huge")),
	       "STATS_FD_BY_ID of no such vCPU: ENOENT");
	list.flags = 1;
	tap_ok(expect_errno(ioctl(sys, VSNIX_LIST_VMS, &list), EINVAL, "flags"),
	       "LIST_VMS with flags: EINVAL");
	list.flags = 0;
	ok = expect_errno(ioctl(sys, VSNIX_LIST_VMS, &list), E2BIG, "nr 0");
	tap_ok(ok && list.nr >= 1, "LIST_VMS with no room: E2BIG, nr = %u VMs", list.nr);
	list.nr = 1;
	list.entries = 8;	/* not a user address */
	tap_ok(expect_errno(ioctl(sys, VSNIX_LIST_VMS, &list), EFAULT, "bad pointer"),
	       "LIST_VMS to a bad pointer: EFAULT");
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_SET_VM_NAME, &name), EINVAL, "newline") &&
	       (memset(name.name, 'a', sizeof(name.name)),
		expect_errno(ioctl(vm->fd, VSNIX_SET_VM_NAME, &name), EINVAL, "no NUL")) &&
	       (memset(&name, 0, sizeof(name)), name.reserved[0] = 1,
		expect_errno(ioctl(vm->fd, VSNIX_SET_VM_NAME, &name), EINVAL, "reserved")),
	       "SET_VM_NAME: control characters, no NUL, reserved set: EINVAL");
}

/* As another uid (no CAP_SYS_ADMIN then): the VM is neither listed nor opened. */
static void owner_check(int sys, uint32_t id)
{
	struct vsnix_stats_fd_req req = { .vm_id = id, .vcpu = VSNIX_STATS_VM };
	struct vsnix_vm_info *vms;
	int n, fd, i;
	bool listed = false;

	TEST_ASSERT(!seteuid(65534), "seteuid");
	fd = ioctl(sys, VSNIX_STATS_FD_BY_ID, &req);
	n = vx_list_vms(sys, &vms);
	for (i = 0; i < n; i++)
		listed |= vms[i].id == id;
	TEST_ASSERT(!seteuid(0), "seteuid back");
	tap_ok(fd < 0 && errno == EPERM, "STATS_FD_BY_ID as another uid: EPERM (got %d)", fd);
	tap_ok(n >= 0 && !listed, "LIST_VMS as another uid leaves the VM out");
	if (n >= 0)
		free(vms);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_vm_info info, *vms;
	struct vx_stats *vs, *cs, *bs;
	struct ucall uc;
	unsigned int i;
	bool ok;
	int sys = vsnix_dev_fd(), n, fd;
	char buf[8];

	tap_plan(NR_TESTS);
	tap_ok(vsnix_cap(VSNIX_CAP_STATS) == 1 && vsnix_cap(VSNIX_CAP_VM_LIST) == 1,
	       "VSNIX_CAP_STATS and VSNIX_CAP_VM_LIST");
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_writes);
	TEST_ASSERT(!vx_vm_set_name(vm->fd, "stats-fd test"), "set name");
	TEST_ASSERT(!vx_vm_get_info(vm->fd, &info), "get info");
	tap_ok(info.id && info.owner_pid == getpid() && info.owner_uid == geteuid() &&
	       info.nr_vcpus == 1 && !strcmp(info.name, "stats-fd test") && info.mem_bytes,
	       "GET_VM_INFO: id %u, owner, 1 vCPU, the name", info.id);
	n = vx_list_vms(sys, &vms);
	ok = false;
	for (i = 0; n > 0 && i < (unsigned int)n; i++)
		ok |= vms[i].id == info.id && !strcmp(vms[i].name, info.name);
	tap_ok(ok, "LIST_VMS has it, with its name (%d VMs)", n);

	for (i = 0; i < K_WRITES; i++) {
		vcpu_run(vcpu);
		TEST_ASSERT(vcpu_is_io(vcpu, TEST_PORT, VSNIX_EXIT_IO_OUT, 1),
			    "write %u: %s", i, vcpu_exit_str(vcpu));
	}
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "DONE");

	fd = ioctl(vm->fd, VSNIX_GET_STATS_FD, 0);
	tap_ok(check_format(fd, info.id, true), "VM stats fd: header, id, descriptors");
	close(fd);
	fd = ioctl(vcpu->fd, VSNIX_GET_VCPU_STATS_FD, 0);
	tap_ok(check_format(fd, info.id, false), "vCPU stats fd: header, id, descriptors");
	close(fd);

	vs = parse(ioctl(vm->fd, VSNIX_GET_STATS_FD, 0));
	cs = parse(ioctl(vcpu->fd, VSNIX_GET_VCPU_STATS_FD, 0));
	bs = parse(vx_stats_fd_by_id(sys, info.id, VSNIX_STATS_VM));
	/* K writes and the DONE ucall (a 32-bit OUT) went to userspace. */
	tap_ok(vx_stats_get(cs, "exits_io") == K_WRITES + 1 &&
	       vx_stats_get(cs, "pio_user") == K_WRITES + 1 &&
	       vx_stats_get(cs, "io_bytes_user") == K_WRITES + 4 &&
	       vx_stats_get(cs, "user_exits") == K_WRITES + 1,
	       "vCPU counters: exits_io %llu pio_user %llu io_bytes_user %llu user_exits %llu",
	       (unsigned long long)vx_stats_get(cs, "exits_io"),
	       (unsigned long long)vx_stats_get(cs, "pio_user"),
	       (unsigned long long)vx_stats_get(cs, "io_bytes_user"),
	       (unsigned long long)vx_stats_get(cs, "user_exits"));
	ok = vx_stats_index(cs, "exits") >= 0;
	for (i = 0; i < cs->nr; i++)
		ok &= vx_stats_get(vs, cs->names[i]) == cs->values[i] &&
		      vx_stats_get(bs, cs->names[i]) == cs->values[i];
	tap_ok(ok, "VM sums equal the one vCPU's counters (own fd and by id)");
	tap_ok(vx_stats_get(vs, "vcpus") == 1 && vx_stats_get(vs, "mem_bytes") == info.mem_bytes &&
	       vx_stats_get(vs, "memory_changes") >= 1 && vx_stats_get(cs, "exits") >=
	       vx_stats_get(cs, "exits_io"),
	       "VM values: vcpus 1, mem_bytes, memory_changes");
	tap_ok(!strcmp(vs->id, bs->id) && vs->nr == bs->nr,
	       "the fd by id describes the same VM (%s)", bs->id);
	tap_ok(pread(vs->fd, buf, sizeof(buf), 1 << 20) == 0, "pread past the end: 0 bytes");
	tap_ok(expect_errno(write(vs->fd, buf, 1), EBADF, "write"), "a stats fd is read-only");
	vx_stats_free(vs);
	vx_stats_free(cs);
	vx_stats_free(bs);

	bad_args(sys, vm, vcpu, info.id);
	owner_check(sys, info.id);
	vm_destroy(vm);
	{
		struct vsnix_stats_fd_req req = { .vm_id = info.id, .vcpu = VSNIX_STATS_VM };

		tap_ok(expect_errno(ioctl(sys, VSNIX_STATS_FD_BY_ID, &req), ENOENT, "gone"),
		       "STATS_FD_BY_ID after the VM's end: ENOENT");
	}
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
