// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: console input. A thread reads a file descriptor (a terminal,
 * a pipe, a file) and hands the bytes to a device with VSNIX_DEVICE_INPUT,
 * waiting while the device's buffer is full (the guest has not read yet).
 * From a terminal, in raw mode, an escape sequence (Ctrl-] then q) asks
 * the caller to stop the VM; Ctrl-] Ctrl-] sends one Ctrl-].
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "vsnix/libvsnix.h"
#include "vsnix/console.h"

/* Waits between retries while the device is full: 1 ms, doubling to 32. */
#define RETRY_MIN_MS	1
#define RETRY_MAX_MS	32

int vx_device_input(struct vx_vm *vm, uint32_t id, const void *buf, size_t len)
{
	struct vsnix_device_input in = {
		.id = id, .len = len, .data = (uintptr_t)buf,
	};
	int r = ioctl(vm->fd, VSNIX_DEVICE_INPUT, &in);

	if (r < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (r < 0)
		return vx_fail(errno, "VSNIX_DEVICE_INPUT (device %u): %s", id,
			       strerror(errno));
	return r;
}

size_t vx_console_escape(struct vx_console_escape *e, uint8_t *buf, size_t len,
			 bool *quit)
{
	size_t i, out = 0;

	*quit = false;
	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (!e->pending) {
			if (c == VX_CONSOLE_ESCAPE)
				e->pending = true;
			else
				buf[out++] = c;
			continue;
		}
		e->pending = false;
		if (c == 'q' || c == 'Q') {
			*quit = true;
			return out;
		}
		/* Ctrl-] Ctrl-] is one Ctrl-]; any other pair goes as it is. */
		if (c != VX_CONSOLE_ESCAPE)
			buf[out++] = VX_CONSOLE_ESCAPE;
		buf[out++] = c;
	}
	return out;
}

/* Sleeps ms unless stop_fd is signalled: true to go on. */
static bool wait_or_stop(int stop_fd, int ms)
{
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };

	return poll(&p, 1, ms) == 0;
}

/* All of buf into the device, retrying while it is full: false to stop. */
static bool push_all(struct vx_console_in *c, const uint8_t *buf, size_t len)
{
	int delay = RETRY_MIN_MS, r;

	while (len) {
		r = vx_device_input(c->vm, c->dev_id, buf, len);
		if (r == -EAGAIN) {
			if (!wait_or_stop(c->stop_fd, delay))
				return false;
			delay = delay < RETRY_MAX_MS ? delay * 2 : RETRY_MAX_MS;
			continue;
		}
		if (r < 0) {
			c->error = -r;
			return false;
		}
		buf += r;
		len -= r;
		delay = RETRY_MIN_MS;
	}
	return true;
}

static void *console_in_thread(void *arg)
{
	struct vx_console_in *c = arg;
	struct pollfd p[2] = {
		{ .fd = c->in_fd, .events = POLLIN },
		{ .fd = c->stop_fd, .events = POLLIN },
	};
	uint8_t buf[256];
	uint64_t one = 1;
	bool quit = false;
	ssize_t n;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		n = read(c->in_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			c->eof = true;
			break;
		}
		if (c->raw)
			n = vx_console_escape(&c->esc, buf, n, &quit);
		if (!push_all(c, buf, n) || quit)
			break;
	}
	if (quit) {
		c->quit = true;
		if (write(c->event_fd, &one, sizeof(one)) < 0)
			c->error = errno;
	}
	return NULL;
}

/* Raw input (no line editing, echo or signal keys); output as it was. */
static int tty_raw(struct vx_console_in *c)
{
	struct termios t;

	if (tcgetattr(c->in_fd, &c->saved) < 0)
		return vx_fail(errno, "tcgetattr: %s", strerror(errno));
	t = c->saved;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
		       ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(c->in_fd, TCSAFLUSH, &t) < 0)
		return vx_fail(errno, "tcsetattr: %s", strerror(errno));
	c->restore = true;
	return 0;
}

void vx_console_in_restore_tty(struct vx_console_in *c)
{
	if (c->restore)
		tcsetattr(c->in_fd, TCSAFLUSH, &c->saved);
}

int vx_console_in_start(struct vx_console_in *c, struct vx_vm *vm,
			uint32_t dev_id, int in_fd, bool raw)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->dev_id = dev_id;
	c->in_fd = in_fd;
	c->raw = raw;
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0 || c->event_fd < 0) {
		r = vx_fail(errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (raw) {
		r = tty_raw(c);
		if (r)
			goto fail;
	}
	r = pthread_create(&c->thread, NULL, console_in_thread, c);
	if (r) {
		r = vx_fail(r, "console input thread: %s", strerror(r));
		vx_console_in_restore_tty(c);
		goto fail;
	}
	c->running = true;
	return 0;
fail:
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->event_fd >= 0)
		close(c->event_fd);
	c->stop_fd = c->event_fd = -1;
	c->restore = false;
	return r;
}

void vx_console_in_stop(struct vx_console_in *c)
{
	uint64_t one = 1;

	if (!c->running)
		return;
	if (write(c->stop_fd, &one, sizeof(one)) < 0)
		abort();	/* an eventfd write fails only on overflow */
	pthread_join(c->thread, NULL);
	vx_console_in_restore_tty(c);
	c->restore = false;
	close(c->stop_fd);
	close(c->event_fd);
	c->running = false;
}
