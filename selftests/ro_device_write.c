// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel writes into a read-only slot are refused like a guest write
 * would be: hvt BLOCK_READ and NET_READ with the buffer (or the argument
 * struct) in read-only memory end the VM with a guest-fault exit, and REP
 * INS into read-only memory, from an in-kernel device or from a port
 * userspace serves, ends with an emulation exit (or an MMIO exit): in every
 * case the read-only memory is unchanged, while the same calls into
 * writable memory work.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsnix_util.h"

#define RO_GPA		0x90000000ul
#define RO_SIZE		0x2000ul
#define RO_FILL		0x42
#define HVT_PORT	0x500
#define HC_BLOCK_READ	5
#define HC_NET_READ	7
#define COM1		0x3f8
#define USER_PORT	0x1234
#define HANDLE_NET	1
#define HANDLE_BLOCK	2

struct hc_block { uint64_t handle, offset, data, len; int ret; };
struct hc_net { uint64_t handle, data, len; int ret; };

static struct hc_block g_blk;
static struct hc_net g_net;
static uint8_t g_rw_buf[512];

enum {
	C_BLOCK_RW, C_BLOCK_RO, C_BLOCK_ARGS_RO, C_NET_RO, C_INS_DEV, C_INS_USER,
	C_INSB_USER, NR_CASES
};

static void guest_case(uint64_t which)
{
	struct hc_block *ro_args = (struct hc_block *)(RO_GPA + 0x1000);
	uint64_t buf = RO_GPA, n = 16;

	switch (which) {
	case C_BLOCK_RW:
	case C_BLOCK_RO:
		g_blk = (struct hc_block){ HANDLE_BLOCK, 0,
			which == C_BLOCK_RW ? (uintptr_t)g_rw_buf : buf, 512, -1 };
		guest_outl(HVT_PORT + HC_BLOCK_READ, (uint32_t)(uintptr_t)&g_blk);
		GUEST_SYNC3(1, g_blk.ret, g_rw_buf[0]);
		break;
	case C_BLOCK_ARGS_RO:
		/* The args already hold a valid request (host wrote them). */
		guest_outl(HVT_PORT + HC_BLOCK_READ, (uint32_t)(uintptr_t)ro_args);
		break;
	case C_NET_RO:
		g_net = (struct hc_net){ HANDLE_NET, buf, 1500, -1 };
		guest_outl(HVT_PORT + HC_NET_READ, (uint32_t)(uintptr_t)&g_net);
		break;
	case C_INS_DEV:		/* the UART's line status register */
		asm volatile("rep insb" : "+D"(buf), "+c"(n) : "d"(COM1 + 5) : "memory");
		break;
	case C_INS_USER:
		asm volatile("rep insb" : "+D"(buf), "+c"(n) : "d"(USER_PORT) : "memory");
		break;
	case C_INSB_USER:
		asm volatile("insb" : "+D"(buf) : "d"(USER_PORT) : "memory");
		break;
	}
	GUEST_SYNC2(2, n);
}

static const char *const case_names[] = {
	[C_BLOCK_RW] = "hvt BLOCK_READ into writable memory",
	[C_BLOCK_RO] = "hvt BLOCK_READ into a read-only slot",
	[C_BLOCK_ARGS_RO] = "hvt BLOCK_READ with its argument struct in a read-only slot",
	[C_NET_RO] = "hvt NET_READ into a read-only slot",
	[C_INS_DEV] = "REP INSB from an in-kernel device into a read-only slot",
	[C_INS_USER] = "REP INSB from a userspace port into a read-only slot",
	[C_INSB_USER] = "INSB from a userspace port into a read-only slot",
};

static int disk_fd, sock[2];

static int make_disk(void)
{
	char path[] = "/tmp/vsnix-ro-XXXXXX";
	uint8_t sector[4096];
	int fd = mkstemp(path);

	TEST_ASSERT(fd >= 0, "mkstemp");
	unlink(path);
	memset(sector, 0x5a, sizeof(sector));
	TEST_ASSERT(write(fd, sector, sizeof(sector)) == sizeof(sector), "write disk");
	return fd;
}

static void add_devices(struct vsnix_test_vm *vm)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_HVT, .console_fd = -1 };
	int i;

	for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++)
		c.hvt.block[i].fd = -1;
	for (i = 0; i < VSNIX_HVT_MAX_NET; i++)
		c.hvt.net[i].fd = -1;
	c.hvt.mem_size = vm->mem_size;
	c.hvt.nr_block = 1;
	c.hvt.block[0].fd = disk_fd;
	c.hvt.block_handle[0] = HANDLE_BLOCK;
	strcpy(c.hvt.block[0].name, "storage");
	c.hvt.nr_net = 1;
	c.hvt.net[0].fd = sock[0];
	c.hvt.net_handle[0] = HANDLE_NET;
	strcpy(c.hvt.net[0].name, "service");
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "CREATE_DEVICE hvt");
	c = (struct vsnix_device_config){ .type = VSNIX_DEV_UART16550, .console_fd = -1,
					  .uart.base = COM1 };
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "CREATE_DEVICE uart");
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* An exit that says the write was refused, not that it happened. */
static bool refused_exit(struct vsnix_test_vcpu *vcpu, int which)
{
	struct vsnix_run *run = vcpu->run;

	if (run->exit_reason == VSNIX_EXIT_INTERNAL_ERROR)
		return which <= C_NET_RO ? run->internal.suberror == VSNIX_INTERNAL_GUEST_FAULT
					 : run->internal.suberror == VSNIX_INTERNAL_EMULATION;
	/* A guest write to a read-only slot is an MMIO write exit. */
	return which >= C_INS_DEV && run->exit_reason == VSNIX_EXIT_MMIO &&
	       run->mmio.is_write && run->mmio.phys_addr >= RO_GPA &&
	       run->mmio.phys_addr < RO_GPA + RO_SIZE;
}

/*
 * A port userspace serves: fill the data area (as a VMM would) and go on;
 * the kernel must then refuse to copy it into read-only memory.
 */
static int run_serving_ports(struct vsnix_test_vcpu *vcpu)
{
	int i, ret = 0;

	for (i = 0; i < 4; i++) {
		ret = vcpu_run_raw(vcpu);
		if (ret || !vcpu_is_io(vcpu, USER_PORT, VSNIX_EXIT_IO_IN, 1)) {
			if (ret || vcpu->run->exit_reason != VSNIX_EXIT_IO ||
			    vcpu->run->io.port != USER_PORT)
				return ret;
		}
		memset(vcpu_io_data(vcpu), 0xcc, vcpu->run->io.count * vcpu->run->io.size);
	}
	return ret;
}

static void one_case(int which, uint8_t *ro)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, 0, guest_case);
	char frame[64];
	struct ucall uc;
	bool ok;
	int ret;

	memset(ro, RO_FILL, RO_SIZE);
	if (which == C_BLOCK_ARGS_RO) {
		struct hc_block args = { HANDLE_BLOCK, 0, (uintptr_t)g_rw_buf, 512, -1 };

		memcpy(ro + 0x1000, &args, sizeof(args));
	}
	TEST_ASSERT(!mprotect(ro, RO_SIZE, PROT_READ), "mprotect");
	vm_set_region(vm, 1, VSNIX_MEM_READONLY, RO_GPA, RO_SIZE, ro);
	add_devices(vm);
	vcpu_set_args(vcpu, 1, (uint64_t)which);
	if (which == C_NET_RO) {
		memset(frame, 0x77, sizeof(frame));
		TEST_ASSERT(send(sock[1], frame, sizeof(frame), 0) == sizeof(frame), "send");
	}

	if (which == C_BLOCK_RW) {
		ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1 &&
		     uc.args[1] == 0 && uc.args[2] == 0x5a;
		tap_ok(ok, "%s works (ret %ld, data 0x%lx)", case_names[which],
		       (long)(int)uc.args[1], (unsigned long)uc.args[2]);
	} else {
		ret = which >= C_INS_USER ? run_serving_ports(vcpu) : vcpu_run_raw(vcpu);
		ok = ret == 0 && refused_exit(vcpu, which);
		if (!ok)
			tap_diag("RUN %d: %s", ret, vcpu_exit_str(vcpu));
		tap_ok(ok && all_bytes(ro, RO_SIZE - (which == C_BLOCK_ARGS_RO ? 0x1000 : 0),
				      RO_FILL) &&
		       (which != C_BLOCK_ARGS_RO || ((struct hc_block *)(ro + 0x1000))->ret == -1),
		       "%s: refused, memory unchanged", case_names[which]);
	}
	vm_destroy(vm);
	TEST_ASSERT(!mprotect(ro, RO_SIZE, PROT_READ | PROT_WRITE), "mprotect");
	if (which == C_NET_RO) {	/* drop a frame the kernel did not take */
		struct pollfd pfd = { .fd = sock[0], .events = POLLIN };

		if (poll(&pfd, 1, 0) == 1)
			TEST_ASSERT(read(sock[0], frame, sizeof(frame)) > 0, "drain the tap");
	}
}

int main(void)
{
	uint8_t *ro;
	int which;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_READONLY_MEM))
		tap_skip_all("no VSNIX_CAP_READONLY_MEM");
	tap_plan(NR_CASES + 1);
	disk_fd = make_disk();
	net_tap_pair(&sock[0], &sock[1]);
	ro = mmap(NULL, RO_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(ro != MAP_FAILED, "mmap");
	for (which = 0; which < NR_CASES; which++)
		one_case(which, ro);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
