/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvsnix: console input for a device that takes it (the 16550, a
 * virtio console): VSNIX_DEVICE_INPUT, and a thread that forwards a file
 * descriptor to it (lib/console.c). Documentation/vsnixctl.rst, "Console".
 */
#ifndef VSNIX_LIBVSNIX_CONSOLE_H
#define VSNIX_LIBVSNIX_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct vx_vm;

/* Ctrl-]: the escape key (then q: quit; Ctrl-] again: a literal Ctrl-]). */
#define VX_CONSOLE_ESCAPE	0x1d

/* The bytes the device took (> 0), -EAGAIN when it had no room, -errno. */
int vx_device_input(struct vx_vm *vm, uint32_t id, const void *buf, size_t len);

struct vx_console_escape {
	bool pending;		/* the last byte was the escape key */
};

/*
 * Takes the escape sequences out of buf (in place, state kept across
 * calls); the bytes left. *quit: Ctrl-] q was typed (bytes after it are
 * dropped).
 */
size_t vx_console_escape(struct vx_console_escape *e, uint8_t *buf, size_t len,
			 bool *quit);

struct vx_console_in {
	struct vx_vm *vm;
	uint32_t dev_id;
	int in_fd;
	bool raw;		/* a terminal in raw mode, with the escape key */
	/* Readable (eventfd) once the user typed the quit sequence. */
	int event_fd;
	int stop_fd;
	bool quit;		/* the quit sequence was typed */
	bool eof;		/* in_fd ended; the VM runs on */
	int error;		/* errno that ended forwarding, or 0 */
	struct vx_console_escape esc;
	struct termios saved;
	bool restore;		/* saved holds the terminal's settings */
	bool running;
	pthread_t thread;
};

/*
 * Forwards in_fd to device dev_id from a thread until stopped, EOF or
 * the quit sequence. raw: in_fd is a terminal, put in raw input mode (no
 * echo, no line editing, Ctrl-C and Ctrl-Z go to the guest), output
 * processing kept; restored by vx_console_in_stop().
 */
int vx_console_in_start(struct vx_console_in *c, struct vx_vm *vm,
			uint32_t dev_id, int in_fd, bool raw);
void vx_console_in_stop(struct vx_console_in *c);
/*
 * Puts the terminal back as it was (tcsetattr only: async-signal-safe,
 * for a fatal signal's handler). stop() does it too.
 */
void vx_console_in_restore_tty(struct vx_console_in *c);

#endif /* VSNIX_LIBVSNIX_CONSOLE_H */
