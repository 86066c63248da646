// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: host resources handed to in-kernel devices (the console, block
 * files, tap interfaces) and small argument parsers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>
#include <linux/if_tun.h>

#include "vsnixctl.h"

/*
 * Whether the kernel takes stdout as a console_fd (Documentation/api.rst,
 * VSNIX_CREATE_DEVICE): a regular file, pipe, terminal, memory device or
 * TCP/UDP socket. An AF_UNIX socket (systemd's journal), other sockets and
 * character devices are refused: they get a pipe and a copier instead.
 */
static bool stdout_is_console_kind(void)
{
	int domain = -1;
	socklen_t len = sizeof(domain);
	struct stat st;

	if (fstat(1, &st))
		return false;
	if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))
		return true;
	/* Memory devices (/dev/null), terminals and pseudo-terminals. */
	if (S_ISCHR(st.st_mode))
		return major(st.st_rdev) <= 5 || (major(st.st_rdev) >= 128 &&
						  major(st.st_rdev) < 144);
	return S_ISSOCK(st.st_mode) &&
	       getsockopt(1, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	       (domain == AF_INET || domain == AF_INET6);
}

/* Copies the console pipe to stdout until every writer has closed it. */
static void *console_copier(void *arg)
{
	int fd = (int)(long)arg;
	char buf[4096];
	ssize_t n, done, w;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (done = 0; done < n; done += w) {
			w = write(1, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				break;	/* keep reading: the guest must not block */
		}
	}
	close(fd);
	return NULL;
}

int console_open(struct vm *vm)
{
	int p[2];

	vm->console_fd = 1;
	if (stdout_is_console_kind())
		return 0;
	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, "vsnixctl: console pipe: %s\n", strerror(errno));
		return -1;
	}
	errno = pthread_create(&vm->console_thread, NULL, console_copier,
			       (void *)(long)p[0]);
	if (errno) {
		fprintf(stderr, "vsnixctl: console copier: %s\n", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	vm->console_fd = p[1];
	vm->console_copier = true;
	return 0;
}

/* After the VM is gone (the kernel's reference too): the rest, then EOF. */
void console_close(struct vm *vm)
{
	if (!vm->console_copier)
		return;
	close(vm->console_fd);
	pthread_join(vm->console_thread, NULL);
	vm->console_copier = false;
	vm->console_fd = 1;
}

/* Opens a block backing file or device read-write; its size in *size. */
int block_open(const char *path, uint64_t *size)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vsnixctl: cannot open block backing %s: %s\n",
			path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			goto fail;
	} else {
		fprintf(stderr, "vsnixctl: %s is neither a file nor a block device\n",
			path);
		close(fd);
		return -1;
	}
	return fd;
fail:
	fprintf(stderr, "vsnixctl: cannot size %s: %s\n", path, strerror(errno));
	close(fd);
	return -1;
}

/* Attaches to an existing (or new) tap interface, frames without header. */
int tap_open(const char *ifname)
{
	struct ifreq ifr;
	int fd;

	if (strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "vsnixctl: tap name %s is too long\n", ifname);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vsnixctl: cannot open /dev/net/tun: %s\n",
			strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "vsnixctl: cannot attach to tap %s: %s\n", ifname,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	/* A unicast address: bit 0 of the first octet is the group bit. */
	return (mac[0] & 1) ? -1 : 0;
}

/* A random locally administered unicast MAC (IEEE 802: bits 1 and 0). */
void random_mac(uint8_t mac[6])
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	int i;

	if (fd < 0 || read(fd, mac, 6) != 6) {
		srand(getpid() ^ time(NULL));
		for (i = 0; i < 6; i++)
			mac[i] = rand();
	}
	if (fd >= 0)
		close(fd);
	mac[0] = (mac[0] & 0xfe) | 0x02;
}

/* "64M", "1G", "512K" or plain bytes. */
int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || v > (1ULL << 40))
		return -1;
	switch (*end) {
	case 'k': case 'K':
		v <<= 10; end++;
		break;
	case 'm': case 'M':
		v <<= 20; end++;
		break;
	case 'g': case 'G':
		v <<= 30; end++;
		break;
	}
	if (*end == 'i')
		end++;	/* accept "MiB" style */
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* The terminal whose settings a fatal signal must put back. */
static struct vx_console_in *raw_tty;

static void restore_tty_and_die(int sig)
{
	if (raw_tty)
		vx_console_in_restore_tty(raw_tty);
	raise(sig);	/* SA_RESETHAND: the default action now */
}

int console_input_start(struct vm *vm, bool force)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };
	struct sigaction sa = { .sa_handler = restore_tty_and_die,
				.sa_flags = SA_RESETHAND };
	bool tty = isatty(0);
	unsigned int i;

	if (!tty && !force)
		return 0;
	if (!vm->console_id) {
		if (!force)
			return 0;
		fprintf(stderr, "vsnixctl: --stdin: this guest has no console input device\n");
		return -1;
	}
	if (report(vx_console_in_start(&vm->cin, vm->vx, vm->console_id, 0, tty)))
		return -1;
	if (tty) {
		raw_tty = &vm->cin;
		for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			sigaction(fatal[i], &sa, NULL);
		fprintf(stderr, "vsnixctl: console on stdin; Ctrl-] q stops the VM\r\n");
	}
	return 0;
}

void console_input_stop(struct vm *vm)
{
	vx_console_in_stop(&vm->cin);
	raw_tty = NULL;
	if (vm->cin.error)
		fprintf(stderr, "vsnixctl: console input stopped: %s\n",
			strerror(vm->cin.error));
}
