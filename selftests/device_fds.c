// SPDX-License-Identifier: GPL-2.0
/*
 * The files a device may hold (Documentation/api.rst, VSNIX_CREATE_DEVICE):
 * a console_fd, hvt net or block fd that could hold the VM itself (its own
 * fd, a vCPU fd, /dev/vsnix, an AF_UNIX socket with the VM fd in flight,
 * an anonymous-inode file; as a console, any socket but TCP/UDP) is
 * refused with EINVAL, one not open for writing with EBADF; the kinds that
 * make sense are accepted; and once everything is closed every VM is freed:
 * the module's reference count is back where it started (each VM holds one).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	21
#define COM1		0x3f8

static struct vsnix_device_config uart(int console)
{
	return (struct vsnix_device_config){ .type = VSNIX_DEV_UART16550,
					     .console_fd = console, .uart.base = COM1 };
}

static struct vsnix_device_config hvt(int console, int block_fd, int net_fd)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_HVT, .console_fd = console };
	int i;

	for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++)
		c.hvt.block[i].fd = -1;
	for (i = 0; i < VSNIX_HVT_MAX_NET; i++)
		c.hvt.net[i].fd = -1;
	if (block_fd != -1) {
		c.hvt.nr_block = 1;
		c.hvt.block[0].fd = block_fd;
		c.hvt.block_handle[0] = 2;
		strcpy(c.hvt.block[0].name, "storage");
	}
	if (net_fd != -1) {
		c.hvt.nr_net = 1;
		c.hvt.net[0].fd = net_fd;
		c.hvt.net_handle[0] = 1;
		strcpy(c.hvt.net[0].name, "service");
	}
	return c;
}

/*
 * CREATE_DEVICE on a fresh VM; fd_of_vm(vm) gives the fd under test
 * (it may be the VM's own fd). Returns the ioctl's result and errno.
 */
typedef int (*fd_fn)(struct vsnix_test_vm *vm);
typedef struct vsnix_device_config (*cfg_fn)(int fd);

static int try_device(fd_fn fd_of_vm, cfg_fn cfg_of, int *err)
{
	struct vsnix_test_vm *vm = vm_create_bare();
	struct vsnix_device_config c = cfg_of(fd_of_vm(vm));
	int ret = ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);

	*err = errno;
	vm_destroy(vm);
	return ret;
}

static bool refused(fd_fn fd_of_vm, cfg_fn cfg_of, int want, const char *what)
{
	int err, ret = try_device(fd_of_vm, cfg_of, &err);

	errno = err;
	return tap_ok(expect_errno(ret, want, what), "%s: refused with %s", what,
		      strerrorname_np(want));
}

static bool accepted(fd_fn fd_of_vm, cfg_fn cfg_of, const char *what)
{
	int err, ret = try_device(fd_of_vm, cfg_of, &err);

	if (ret)
		tap_diag("%s: %s", what, strerror(err));
	return tap_ok(ret == 0, "%s: accepted", what);
}

static struct vsnix_device_config cfg_uart(int fd) { return uart(fd); }
static struct vsnix_device_config cfg_hvt_console(int fd) { return hvt(fd, -1, -1); }
static struct vsnix_device_config cfg_net(int fd) { return hvt(-1, -1, fd); }
static struct vsnix_device_config cfg_block(int fd) { return hvt(-1, fd, -1); }

/* Fds of the case under test, closed by close_case_fds(). */
static int case_fds[4];
static int nr_case_fds;

static int keep(int fd)
{
	TEST_ASSERT(fd >= 0, "open a file for the case: %s", strerror(errno));
	case_fds[nr_case_fds++] = fd;
	return fd;
}

static void close_case_fds(void)
{
	while (nr_case_fds)
		close(case_fds[--nr_case_fds]);
}

static int vm_own_fd(struct vsnix_test_vm *vm) { return vm->fd; }
static int a_vcpu_fd(struct vsnix_test_vm *vm) { return vcpu_create(vm, 0)->fd; }
static int dev_vsnix_fd(struct vsnix_test_vm *vm)
{
	return keep(open("/dev/vsnix", O_RDWR | O_CLOEXEC));
}

/* One end of a socketpair whose other end has the VM fd queued. */
static int unix_carrying_vm(struct vsnix_test_vm *vm)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int sp[2];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0, "socketpair");
	keep(sp[0]);
	keep(sp[1]);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &vm->fd, sizeof(int));
	TEST_ASSERT(sendmsg(sp[1], &msg, 0) == 1, "SCM_RIGHTS");
	return sp[0];	/* its receive queue holds the VM fd */
}

static int an_eventfd(struct vsnix_test_vm *vm) { return keep(eventfd(0, EFD_CLOEXEC)); }
static int read_only_file(struct vsnix_test_vm *vm)
{
	return keep(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
}

static int a_pipe(struct vsnix_test_vm *vm)
{
	int p[2];

	TEST_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe");
	keep(p[0]);
	return keep(p[1]);
}

static int dev_null(struct vsnix_test_vm *vm) { return keep(open("/dev/null", O_WRONLY | O_CLOEXEC)); }
static int a_memfd(struct vsnix_test_vm *vm) { return keep(memfd_create("console", MFD_CLOEXEC)); }
/* A pseudo-terminal, or /dev/console where devpts is not mounted (rig). */
static int a_tty(struct vsnix_test_vm *vm)
{
	int master, slave;

	if (openpty(&master, &slave, NULL, NULL, NULL)) {
		slave = keep(open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC));
		TEST_ASSERT(isatty(slave), "/dev/console is a terminal");
		return slave;
	}
	keep(master);
	return keep(slave);
}

static int udp_socket(struct vsnix_test_vm *vm)
{
	return keep(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

static int netlink_socket(struct vsnix_test_vm *vm)
{
	return keep(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
}

static int packet_raw(struct vsnix_test_vm *vm)
{
	return keep(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
}

static int packet_dgram(struct vsnix_test_vm *vm)
{
	return keep(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL)));
}

static int rdwr_memfd(struct vsnix_test_vm *vm)
{
	int fd = keep(memfd_create("disk", MFD_CLOEXEC));

	TEST_ASSERT(ftruncate(fd, 4096) == 0, "ftruncate");
	return fd;
}

/* /dev/net/tun, loading tun the way hvt_net does where needed; -1: none. */
static int tun_fd(struct vsnix_test_vm *vm)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0 && system("hostrun modprobe tun >/dev/null 2>&1") == 0)
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	return fd < 0 ? -1 : keep(fd);
}

int main(void)
{
	long before, after;

	vsnix_dev_fd();
	tap_plan(NR_TESTS);
	before = vsnix_module_refcnt();

	refused(vm_own_fd, cfg_uart, EINVAL, "UART console_fd: the VM's own fd");
	refused(a_vcpu_fd, cfg_uart, EINVAL, "UART console_fd: a vCPU fd of the VM");
	refused(dev_vsnix_fd, cfg_hvt_console, EINVAL, "hvt console_fd: /dev/vsnix");
	refused(unix_carrying_vm, cfg_uart, EINVAL,
		"UART console_fd: AF_UNIX socket with the VM fd in flight");
	close_case_fds();
	refused(an_eventfd, cfg_uart, EINVAL, "UART console_fd: an eventfd (anonymous inode)");
	refused(netlink_socket, cfg_uart, EINVAL,
		"UART console_fd: a netlink socket (guest output as requests)");
	refused(read_only_file, cfg_uart, EBADF, "UART console_fd: a file open read-only");
	refused(vm_own_fd, cfg_net, EINVAL, "hvt net fd: the VM's own fd");
	refused(unix_carrying_vm, cfg_net, EINVAL,
		"hvt net fd: AF_UNIX socket with the VM fd in flight");
	close_case_fds();
	refused(packet_dgram, cfg_net, EINVAL, "hvt net fd: AF_PACKET SOCK_DGRAM (no link header)");
	refused(vm_own_fd, cfg_block, EINVAL, "hvt block fd: the VM's own fd");
	close_case_fds();

	accepted(a_pipe, cfg_uart, "UART console_fd: a pipe");
	accepted(dev_null, cfg_hvt_console, "hvt console_fd: /dev/null");
	accepted(a_memfd, cfg_uart, "UART console_fd: a regular file (memfd)");
	accepted(a_tty, cfg_uart, "UART console_fd: a terminal");
	accepted(udp_socket, cfg_uart, "UART console_fd: a UDP socket");
	accepted(packet_raw, cfg_net, "hvt net fd: AF_PACKET SOCK_RAW");
	accepted(rdwr_memfd, cfg_block, "hvt block fd: a regular file (memfd)");
	close_case_fds();
	if (tun_fd(NULL) < 0) {
		tap_skip("no /dev/net/tun (tun module not available)", "hvt net fd: a tun fd");
	} else {
		close_case_fds();
		accepted(tun_fd, cfg_net, "hvt net fd: a tun fd");
	}
	close_case_fds();

	after = vsnix_module_refcnt();
	tap_ok(after == before, "every VM freed once its fds are closed: module refcnt %ld, was %ld",
	       after, before);
	tap_ok(kernel_healthy(), "no oops or WARN");
	tap_finish();
}
