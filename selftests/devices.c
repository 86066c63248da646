// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel devices (VSNIX_CREATE_DEVICE): the Solo5 hvt hypercalls
 * (walltime, puts, block read/write, poll, net read/write, halt), the 16550
 * UART, fw_cfg and the exit port, served without exits to userspace; bad
 * guest arguments (pointers outside RAM, huge lengths, bad ports) end the
 * VM with an INTERNAL_ERROR GUEST_FAULT exit; bad configs fail with errno.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include "vsnix_util.h"

/* Solo5 hvt ABI 2, the guest's view: the project's one declaration. */
#include <linux/vsnix_hvt.h>

#define NET_HANDLE	1	/* manifest order: net first, then block */
#define BLOCK_HANDLE	2
#define DISK_SIZE	(64 * 1024)
#define EXIT_PORT	0xf4
#define COM1		0x3f8

static const char puts_msg[] = "hvt puts ok\n";
static const char frame_in[] = "frame from the host, sixty bytes long, give or take a few..";
static const char frame_out[] = "reply from the guest";

static struct hvt_hc_walltime g_wt;
static struct hvt_hc_puts g_puts;
static struct hvt_hc_poll g_poll;
static struct hvt_hc_block_io g_blk;
static struct hvt_hc_net_io g_net;
static struct hvt_hc_halt g_halt;
static uint8_t g_sector[512], g_readback[512], g_frame[2048], g_cookie[512];

static void hvt_call(int nr, void *arg)
{
	guest_outl(HVT_HYPERCALL_PIO_BASE + nr, (uint32_t)(uintptr_t)arg);
}

static uint64_t walltime(void)
{
	hvt_call(HVT_HYPERCALL_WALLTIME, &g_wt);
	return g_wt.nsecs;
}

static int block_io(int nr, uint64_t handle, uint64_t offset, void *buf, uint64_t len)
{
	g_blk.handle = handle;
	g_blk.offset = offset;
	g_blk.data = (uintptr_t)buf;
	g_blk.len = len;
	g_blk.ret = -1;
	hvt_call(nr, &g_blk);
	return g_blk.ret;
}

static int net_io(int nr, uint64_t handle, void *buf, uint64_t len)
{
	g_net.handle = handle;
	g_net.data = (uintptr_t)buf;
	g_net.len = len;
	g_net.ret = -1;
	hvt_call(nr, &g_net);
	return g_net.ret;
}

static int poll_ns(uint64_t ns)
{
	g_poll.timeout_nsecs = ns;
	g_poll.ready_set = ~0ul;
	g_poll.ret = -1;
	hvt_call(HVT_HYPERCALL_POLL, &g_poll);
	return g_poll.ret;
}

static uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint64_t fw_cfg_read(uint16_t key, int len)
{
	uint64_t v = 0;
	int i;

	guest_outw(0x510, key);
	for (i = 0; i < len; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static void guest_main(void)
{
	uint64_t t0, t1;
	int i;

	/* 1: walltime */
	GUEST_SYNC2(1, walltime());

	/* 2: puts */
	g_puts.data = (uintptr_t)puts_msg;
	g_puts.len = sizeof(puts_msg) - 1;
	hvt_call(HVT_HYPERCALL_PUTS, &g_puts);
	GUEST_SYNC(2);

	/* 3: block write, read back, ABI errors */
	for (i = 0; i < 512; i++)
		g_sector[i] = i * 7 + 1;
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_WRITE, BLOCK_HANDLE, 512, g_sector, 512), SOLO5_R_OK);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, BLOCK_HANDLE, 512, g_readback, 512), SOLO5_R_OK);
	for (i = 0; i < 512; i++)
		GUEST_ASSERT_EQ(g_readback[i], g_sector[i]);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, NET_HANDLE, 0, g_readback, 512), SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, 63, 0, g_readback, 512), SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, BLOCK_HANDLE, DISK_SIZE, g_readback, 512),
			SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, BLOCK_HANDLE, DISK_SIZE - 512, g_readback,
				 1024), SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_WRITE, BLOCK_HANDLE, 100, g_sector, 512), SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_WRITE, BLOCK_HANDLE, 512, g_sector, 100), SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, BLOCK_HANDLE, 512, g_readback, 1ul << 62),
			SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(block_io(HVT_HYPERCALL_BLOCK_READ, BLOCK_HANDLE, ~511ul, g_readback, 512),
			SOLO5_R_EINVAL);
	GUEST_SYNC(3);

	/* 4: poll with nothing to read times out */
	t0 = walltime();
	i = poll_ns(50 * 1000 * 1000);
	t1 = walltime();
	GUEST_ASSERT_EQ(g_poll.ready_set, 0);
	GUEST_SYNC3(4, i, t1 - t0);

	/* 5: the host sent a frame: poll sees it, read it, then nothing */
	GUEST_ASSERT_EQ(poll_ns(5000ul * 1000 * 1000), 1);
	GUEST_ASSERT_EQ(g_poll.ready_set, 1ul << NET_HANDLE);
	GUEST_ASSERT_EQ(net_io(HVT_HYPERCALL_NET_READ, NET_HANDLE, g_frame, sizeof(g_frame)), SOLO5_R_OK);
	GUEST_ASSERT_EQ(g_net.len, sizeof(frame_in));
	for (i = 0; i < (int)sizeof(frame_in); i++)
		GUEST_ASSERT_EQ(g_frame[i], frame_in[i]);
	GUEST_ASSERT_EQ(net_io(HVT_HYPERCALL_NET_READ, NET_HANDLE, g_frame, sizeof(g_frame)), SOLO5_R_AGAIN);
	GUEST_ASSERT_EQ(net_io(HVT_HYPERCALL_NET_READ, BLOCK_HANDLE, g_frame, sizeof(g_frame)), SOLO5_R_EINVAL);
	GUEST_ASSERT_EQ(net_io(HVT_HYPERCALL_NET_WRITE, NET_HANDLE, (void *)frame_out,
			       sizeof(frame_out)), SOLO5_R_OK);
	GUEST_SYNC(5);

	/* 6: UART */
	guest_outb(COM1, 'u');
	guest_outb(COM1, 'a');
	guest_outb(COM1, 'r');
	guest_outb(COM1, 't');
	guest_outb(COM1, '\n');
	guest_outb(COM1 + 3, 0x80);		/* DLAB */
	guest_outb(COM1, 0x0c);			/* divisor: must not print */
	guest_outb(COM1 + 1, 0x00);
	GUEST_ASSERT_EQ(inb(COM1), 0x0c);
	guest_outb(COM1 + 3, 0x03);
	GUEST_ASSERT_EQ(inb(COM1 + 3), 0x03);
	GUEST_ASSERT_EQ(inb(COM1 + 5), 0x60);	/* THRE | TEMT */
	GUEST_ASSERT_EQ(inb(COM1 + 2) & 0x0f, 0x01);	/* no interrupt */
	guest_outb(COM1 + 7, 0xa5);
	GUEST_ASSERT_EQ(inb(COM1 + 7), 0xa5);
	guest_outb(COM1 + 4, 0x1a);		/* loopback, RTS, OUT2 */
	GUEST_ASSERT_EQ(inb(COM1 + 6) & 0xf0, 0x90);
	guest_outb(COM1, 'x');			/* looped back, not printed */
	GUEST_ASSERT_EQ(inb(COM1 + 5), 0x61);
	GUEST_ASSERT_EQ(inb(COM1), 'x');
	GUEST_ASSERT_EQ(inb(COM1 + 5), 0x60);
	guest_outb(COM1 + 4, 0x0b);
	GUEST_SYNC(6);

	/* 7: fw_cfg */
	GUEST_ASSERT_EQ(fw_cfg_read(0x0000, 4), 0x554d4551);	/* "QEMU" */
	GUEST_ASSERT_EQ(fw_cfg_read(0x0001, 4), 1);
	GUEST_ASSERT_EQ(fw_cfg_read(0x0005, 2), 1);
	GUEST_ASSERT_EQ(fw_cfg_read(0x0003, 8), 0x12345000);
	GUEST_ASSERT_EQ(fw_cfg_read(0x0019, 4), 0);
	GUEST_ASSERT_EQ(fw_cfg_read(0x4242, 4), 0);
	GUEST_ASSERT_EQ(fw_cfg_read(0x0000, 6), 0x554d4551);	/* 0 past the end */
	GUEST_SYNC(7);

	/* 8: a long poll that a signal interrupts; a frame ends it */
	GUEST_ASSERT_EQ(poll_ns(20000ul * 1000 * 1000), 1);
	GUEST_ASSERT_EQ(net_io(HVT_HYPERCALL_NET_READ, NET_HANDLE, g_frame, sizeof(g_frame)), SOLO5_R_OK);
	GUEST_SYNC(8);

	/* 9: the exit port ends the VM with the value written */
	guest_outl(EXIT_PORT, 42);
	GUEST_SYNC(99);		/* not reached */
}

static void guest_halt(void)
{
	g_halt.cookie = (uintptr_t)g_cookie;
	g_halt.exit_status = 7;
	hvt_call(HVT_HYPERCALL_HALT, &g_halt);
	GUEST_SYNC(99);
}

/* One raw port write or read, arguments set by the host. */
static void guest_port(uint64_t port, uint64_t value, uint64_t size, uint64_t is_in)
{
	if (is_in)
		(void)inb(port);
	else if (size == 1)
		guest_outb(port, value);
	else
		guest_outl(port, value);
	GUEST_SYNC(99);
}

/* ------------------------------------------------------------ host side */

static int create_device(struct vsnix_test_vm *vm, struct vsnix_device_config *cfg)
{
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, cfg);
}

static struct vsnix_device_config hvt_config(int console, int block_fd, int net_fd)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_HVT, .console_fd = console };
	int i;

	for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++)
		c.hvt.block[i].fd = -1;
	for (i = 0; i < VSNIX_HVT_MAX_NET; i++)
		c.hvt.net[i].fd = -1;
	if (block_fd >= 0) {
		c.hvt.nr_block = 1;
		c.hvt.block[0].fd = block_fd;
		c.hvt.block_handle[0] = BLOCK_HANDLE;
		strcpy(c.hvt.block[0].name, "storage");
	}
	if (net_fd >= 0) {
		c.hvt.nr_net = 1;
		c.hvt.net[0].fd = net_fd;
		c.hvt.net_handle[0] = NET_HANDLE;
		strcpy(c.hvt.net[0].name, "service");
	}
	return c;
}

static int make_disk(void)
{
	int fd = memfd_create("disk", 0);

	TEST_ASSERT(fd >= 0 && ftruncate(fd, DISK_SIZE) == 0, "memfd disk");
	return fd;
}

static struct vsnix_vm_status vm_status(struct vsnix_test_vm *vm)
{
	struct vsnix_vm_status st = { 0 };

	TEST_ASSERT(ioctl(vm->fd, VSNIX_GET_VM_STATUS, &st) == 0, "GET_VM_STATUS");
	return st;
}

static bool run_sync(struct vsnix_test_vcpu *vcpu, uint64_t stage, struct ucall *uc)
{
	if (vcpu_run_ucall_soft(vcpu, uc) != UCALL_SYNC || uc->args[0] != stage) {
		tap_diag("wanted stage %lu, got %s", (unsigned long)stage, vcpu_exit_str(vcpu));
		return false;
	}
	return true;
}

static size_t drain(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? n : 0;
}

static pthread_t main_thread;
static int peer_fd;

static void on_usr1(int sig)
{
	(void)sig;
}

/* Interrupts the vCPU thread, then sends the frame that ends its poll. */
static void *interrupter(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	pthread_kill(main_thread, SIGUSR1);
	usleep(300 * 1000);
	if (send(peer_fd, frame_in, sizeof(frame_in), 0) != sizeof(frame_in))
		perror("send");
	return NULL;
}

static void test_functional(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	int pipe_fds[2], sp[2], disk = make_disk();
	struct vsnix_device_config cfg;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_vm_status st;
	uint8_t sector[512];
	char out[256];
	struct ucall uc;
	struct timespec ts;
	pthread_t thread;
	uint64_t host_ns;
	bool ok;
	int i, r;

	TEST_ASSERT(pipe2(pipe_fds, O_NONBLOCK) == 0, "pipe");
	net_tap_pair(&sp[0], &sp[1]);
	peer_fd = sp[1];
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);

	cfg = hvt_config(pipe_fds[1], disk, sp[0]);
	ok = create_device(vm, &cfg) == 0;
	cfg = (struct vsnix_device_config){ .type = VSNIX_DEV_UART16550,
					    .console_fd = pipe_fds[1], .uart.base = COM1 };
	ok = ok && create_device(vm, &cfg) == 0;
	cfg = (struct vsnix_device_config){ .type = VSNIX_DEV_FW_CFG, .console_fd = -1,
					    .fw_cfg = { .ram_size = 0x12345000, .nr_cpus = 1 } };
	ok = ok && create_device(vm, &cfg) == 0;
	cfg = (struct vsnix_device_config){ .type = VSNIX_DEV_EXIT_PORT, .console_fd = -1,
					    .exit_port.port = EXIT_PORT };
	ok = ok && create_device(vm, &cfg) == 0;
	if (!tap_ok(ok, "CREATE_DEVICE: hvt (1 block, 1 net), UART, fw_cfg, exit port"))
		tap_diag("CREATE_DEVICE: %s", strerror(errno));

	ok = run_sync(vcpu, 1, &uc);
	clock_gettime(CLOCK_REALTIME, &ts);
	host_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	ok = ok && uc.args[1] <= host_ns && host_ns - uc.args[1] < 10ull * 1000000000;
	tap_ok(ok, "WALLTIME: guest %lu ns, host %lu ns", (unsigned long)uc.args[1],
	       (unsigned long)host_ns);

	ok = run_sync(vcpu, 2, &uc);
	drain(pipe_fds[0], out, sizeof(out));
	tap_ok(ok && !strcmp(out, puts_msg), "PUTS: console got \"hvt puts ok\\n\" (\"%s\")",
	       out);

	ok = run_sync(vcpu, 3, &uc);
	ok = ok && pread(disk, sector, 512, 512) == 512;
	for (i = 0; ok && i < 512; i++)
		ok = sector[i] == (uint8_t)(i * 7 + 1);
	tap_ok(ok, "BLOCK_WRITE/READ at sector 1: file and guest agree; bad handle, out of range, misaligned, huge length: SOLO5_R_EINVAL");

	ok = run_sync(vcpu, 4, &uc);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] >= 50000000,
	       "POLL with no frame: ret %ld after %lu ns (>= 50 ms)", (long)uc.args[1],
	       (unsigned long)uc.args[2]);

	TEST_ASSERT(send(sp[1], frame_in, sizeof(frame_in), 0) == sizeof(frame_in), "send");
	ok = run_sync(vcpu, 5, &uc);
	r = recv(sp[1], out, sizeof(out), MSG_DONTWAIT);
	ok = ok && r == sizeof(frame_out) && !memcmp(out, frame_out, r);
	tap_ok(ok, "POLL sees the frame; NET_READ gets it, then SOLO5_R_AGAIN; NET_WRITE sent %d bytes",
	       r);

	ok = run_sync(vcpu, 6, &uc);
	drain(pipe_fds[0], out, sizeof(out));
	tap_ok(ok && !strcmp(out, "uart\n"),
	       "UART: THR printed \"uart\\n\" only (no divisor byte, no loopback byte): \"%s\"",
	       out);

	tap_ok(run_sync(vcpu, 7, &uc), "fw_cfg: signature, ID, NB_CPUS, RAM_SIZE, FILE_DIR, unknown key");

	main_thread = pthread_self();
	sigaction(SIGUSR1, &sa, NULL);
	TEST_ASSERT(pthread_create(&thread, NULL, interrupter, NULL) == 0, "thread");
	r = vcpu_run_raw(vcpu);
	ok = r == -1 && errno == EINTR && vcpu->run->exit_reason == VSNIX_EXIT_INTR;
	if (!ok)
		tap_diag("RUN gave %d (%s), %s", r, strerror(errno), vcpu_exit_str(vcpu));
	ok = ok && run_sync(vcpu, 8, &uc);
	pthread_join(thread, NULL);
	tap_ok(ok, "POLL: a signal makes RUN fail with EINTR; the next RUN polls again and gets the frame");

	r = vcpu_run_raw(vcpu);
	st = vm_status(vm);
	ok = r == 0 && vcpu->run->exit_reason == VSNIX_EXIT_GUEST_EXIT &&
	     vcpu->run->guest_exit.source == VSNIX_GUEST_EXIT_PORT &&
	     vcpu->run->guest_exit.status == 42 && st.exited && st.exit_status == 42;
	tap_ok(ok, "exit port: status 42 (raw value), GET_VM_STATUS exited (%s)",
	       vcpu_exit_str(vcpu));
	tap_ok(st.console_bytes == strlen(puts_msg) + 5, "console_bytes %lu == %zu",
	       (unsigned long)st.console_bytes, strlen(puts_msg) + 5);

	vm_destroy(vm);
	close(pipe_fds[1]);
	/* The devices held the pipe's write end: EOF proves they let it go. */
	fcntl(pipe_fds[0], F_SETFL, 0);
	tap_ok(read(pipe_fds[0], out, 1) == 0, "VM destroy released the console file");
	close(pipe_fds[0]);
	close(sp[0]);
	close(sp[1]);
	close(disk);
}

static void test_halt(void)
{
	struct vsnix_device_config cfg = hvt_config(-1, -1, -1);
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	bool ok;

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_halt);
	ok = create_device(vm, &cfg) == 0 && vcpu_run_raw(vcpu) == 0 &&
	     vcpu->run->exit_reason == VSNIX_EXIT_GUEST_EXIT &&
	     vcpu->run->guest_exit.source == VSNIX_GUEST_EXIT_HVT_HALT &&
	     vcpu->run->guest_exit.status == 7 && vm_status(vm).exit_status == 7;
	tap_ok(ok, "HALT: GUEST_EXIT, source HVT_HALT, status 7 (%s)", vcpu_exit_str(vcpu));
	vm_destroy(vm);
}

/*
 * A guest that makes one bad access must end with INTERNAL_ERROR
 * GUEST_FAULT. setup() places argument structs in guest RAM.
 */
static void expect_fault(const char *what, uint16_t port, uint32_t value, int size,
			 bool is_in, void (*setup)(struct vsnix_test_vm *vm, uint32_t *value))
{
	struct vsnix_device_config cfg;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	int disk = make_disk();
	int r;
	bool ok;

	vm = vm_create_long(0x10000);
	vcpu = vcpu_create_long(vm, 0, guest_port);
	cfg = hvt_config(-1, disk, -1);
	TEST_ASSERT(create_device(vm, &cfg) == 0, "hvt device: %s", strerror(errno));
	if (setup)
		setup(vm, &value);
	vcpu_set_args(vcpu, 4, (uint64_t)port, (uint64_t)value, (uint64_t)size,
		      (uint64_t)is_in);
	r = vcpu_run_raw(vcpu);
	ok = r == 0 && vcpu->run->exit_reason == VSNIX_EXIT_INTERNAL_ERROR &&
	     vcpu->run->internal.suberror == VSNIX_INTERNAL_GUEST_FAULT;
	tap_ok(ok, "bad guest input ends the VM with GUEST_FAULT: %s (%s)", what,
	       r ? strerror(errno) : vcpu_exit_str(vcpu));
	vm_destroy(vm);
	close(disk);
}

static void *arg_at(struct vsnix_test_vm *vm, uint32_t *value, size_t size)
{
	uint64_t gpa = vm_alloc(vm, size);

	*value = gpa;
	return gpa2hva(vm, gpa, size);
}

static void puts_huge_len(struct vsnix_test_vm *vm, uint32_t *value)
{
	struct hvt_hc_puts *p = arg_at(vm, value, sizeof(*p));

	p->data = GUEST_IMAGE_MIN_GPA;
	p->len = 1ull << 40;
}

static void puts_bad_data(struct vsnix_test_vm *vm, uint32_t *value)
{
	struct hvt_hc_puts *p = arg_at(vm, value, sizeof(*p));

	p->data = 0xfffff000;
	p->len = 16;
}

static void puts_wrapping(struct vsnix_test_vm *vm, uint32_t *value)
{
	struct hvt_hc_puts *p = arg_at(vm, value, sizeof(*p));

	p->data = 0x1000;
	p->len = ~0ull - 0x800;	/* data + len wraps around */
}

static void block_read_bad_buf(struct vsnix_test_vm *vm, uint32_t *value)
{
	struct hvt_hc_block_io *b = arg_at(vm, value, sizeof(*b));

	b->handle = BLOCK_HANDLE;
	b->offset = 0;
	b->data = vm->mem_size - 256;	/* half of the sector is past RAM */
	b->len = 512;
}

static void halt_bad_cookie(struct vsnix_test_vm *vm, uint32_t *value)
{
	struct hvt_hc_halt *h = arg_at(vm, value, sizeof(*h));

	h->cookie = vm->mem_size - 100;
}

static void struct_at_end(struct vsnix_test_vm *vm, uint32_t *value)
{
	*value = vm->mem_size - 8;	/* a 16-byte struct that crosses the end */
}

static void test_bad_guest_input(void)
{
	expect_fault("PUTS struct beyond RAM", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0xfffff000, 4, false, NULL);
	expect_fault("PUTS struct crossing the end of RAM", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0, 4, false,
		     struct_at_end);
	expect_fault("PUTS length 2^40", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0, 4, false, puts_huge_len);
	expect_fault("PUTS data beyond RAM", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0, 4, false, puts_bad_data);
	expect_fault("PUTS data + len wraps", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0, 4, false, puts_wrapping);
	expect_fault("BLOCK_READ buffer crossing the end of RAM", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_BLOCK_READ, 0, 4,
		     false, block_read_bad_buf);
	expect_fault("HALT cookie crossing the end of RAM", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_HALT, 0, 4, false,
		     halt_bad_cookie);
	expect_fault("hypercall 0 (reserved)", HVT_HYPERCALL_PIO_BASE, 0x1000, 4, false, NULL);
	expect_fault("hypercall 9 (none)", HVT_HYPERCALL_PIO_BASE + 9, 0x1000, 4, false, NULL);
	expect_fault("outb to a hypercall port", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0x10, 1, false, NULL);
	expect_fault("inb from a hypercall port", HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PUTS, 0, 1, true, NULL);
}

static void test_bad_configs(void)
{
	struct vsnix_test_vm *vm = vm_create(0x10000);
	int disk = make_disk(), ro, pipe_fds[2];
	struct vsnix_device_config c;
	bool ok;

	TEST_ASSERT(pipe(pipe_fds) == 0, "pipe");
	ro = open("/proc/self/exe", O_RDONLY);

	c = (struct vsnix_device_config){ .type = VSNIX_NR_DEVICES, .console_fd = -1 };
	ok = expect_errno(create_device(vm, &c), EINVAL, "unknown type");
	c = hvt_config(-1, -1, -1);
	c.raw[sizeof(c.hvt)] = 1;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "bytes past the hvt config");
	c = hvt_config(-1, -1, -1);
	c.hvt.reserved[1] = 1;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "hvt reserved");
	c = hvt_config(-1, disk, -1);
	c.hvt.nr_block = 5;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "5 block devices");
	c = hvt_config(-1, disk, -1);
	c.hvt.block_handle[0] = 0;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "handle 0");
	c = hvt_config(-1, disk, -1);
	c.hvt.block_handle[0] = 64;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "handle 64");
	c = hvt_config(-1, disk, pipe_fds[0]);
	c.hvt.net_handle[0] = BLOCK_HANDLE;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "a handle given twice");
	c = hvt_config(-1, 1000, -1);
	ok &= expect_errno(create_device(vm, &c), EBADF, "block fd not open");
	c = hvt_config(-1, ro, -1);
	ok &= expect_errno(create_device(vm, &c), EBADF, "block fd read-only");
	c = hvt_config(-1, disk, -1);
	c.hvt.block[0].sector_size = 768;
	ok &= expect_errno(create_device(vm, &c), EINVAL, "sector size 768");
	c = hvt_config(-1, disk, -1);
	memset(c.hvt.block[0].name, 'a', sizeof(c.hvt.block[0].name));
	ok &= expect_errno(create_device(vm, &c), EINVAL, "name without NUL");
	c = hvt_config(pipe_fds[0], -1, -1);
	ok &= expect_errno(create_device(vm, &c), EBADF, "console fd read-only");
	c = (struct vsnix_device_config){ .type = VSNIX_DEV_UART16550, .console_fd = -1,
					  .uart.base = 0xfffc };
	ok &= expect_errno(create_device(vm, &c), EINVAL, "UART past port 0xffff");
	c.uart.base = COM1;
	ok &= create_device(vm, &c) == 0;
	ok &= expect_errno(create_device(vm, &c), EEXIST, "second UART on COM1");
	c = (struct vsnix_device_config){ .type = VSNIX_DEV_EXIT_PORT, .console_fd = -1,
					  .exit_port.port = COM1 + 6 };
	ok &= expect_errno(create_device(vm, &c), EEXIST, "exit port inside the UART");
	c = (struct vsnix_device_config){ .type = VSNIX_DEV_FW_CFG, .console_fd = -1,
					  .fw_cfg.ram_size = 1 << 20 };
	ok &= expect_errno(create_device(vm, &c), EINVAL, "fw_cfg with 0 CPUs");
	c = hvt_config(-1, disk, -1);
	ok &= create_device(vm, &c) == 0;
	ok &= expect_errno(create_device(vm, &c), EEXIST, "second hvt device");
	tap_ok(ok, "CREATE_DEVICE refuses bad configs with EINVAL/EBADF/EEXIST");

	vm_destroy(vm);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	close(ro);
	close(disk);
}

int main(void)
{
	vsnix_dev_fd();
	tap_plan(26);
	test_functional();
	test_halt();
	test_bad_guest_input();
	test_bad_configs();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN since the start");
	tap_finish();
}
