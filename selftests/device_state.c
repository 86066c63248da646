// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_GET/SET_DEVICE_STATE (VSNIX_CAP_DEVICE_STATE): the guest programs
 * a 16550's LCR, divisor and scratch register; the host saves the state,
 * resets the UART (the guest then reads the power-on values), restores the
 * blob and the guest reads its own values back. Bad blobs, a short buffer,
 * unknown ids and a stateless device (the exit port) are checked too.
 */
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	13
#define COM1		0x3f8
#define EXIT_PORT	0xf4

static uint8_t guest_inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Reports LCR, DLL (with DLAB) and SCR in one ucall. */
static void guest_report(uint64_t stage)
{
	uint8_t lcr = guest_inb(COM1 + 3), dll;

	guest_outb(COM1 + 3, lcr | 0x80);
	dll = guest_inb(COM1);
	guest_outb(COM1 + 3, lcr);
	GUEST_SYNC3(stage, (uint64_t)lcr << 8 | dll, guest_inb(COM1 + 7));
}

static void guest_code(void)
{
	guest_outb(COM1 + 3, 0x80);	/* DLAB */
	guest_outb(COM1, 0x0c);		/* 9600 baud */
	guest_outb(COM1 + 3, 0x1b);	/* 8 bits, even parity */
	guest_outb(COM1 + 7, 0x5a);
	guest_report(1);		/* host saves, then resets */
	guest_report(2);		/* host restores */
	guest_report(3);
	GUEST_DONE();
}

struct blob {
	struct vsnix_device_state_header hdr;
	struct vsnix_uart_state uart;
};

static int get_state(int vm_fd, uint32_t id, void *buf, uint32_t *size)
{
	struct vsnix_device_state st = { .id = id, .size = *size,
					 .data = (uintptr_t)buf };
	int ret = ioctl(vm_fd, VSNIX_GET_DEVICE_STATE, &st);

	*size = st.size;
	return ret;
}

static int set_state(int vm_fd, uint32_t id, uint32_t flags, const void *buf,
		     uint32_t size)
{
	struct vsnix_device_state st = { .id = id, .flags = flags, .size = size,
					 .data = (uintptr_t)buf };

	return ioctl(vm_fd, VSNIX_SET_DEVICE_STATE, &st);
}

static bool expect_report(struct vsnix_test_vcpu *vcpu, uint64_t stage,
			  uint64_t lcr_dll, uint64_t scr, const char *what)
{
	struct ucall uc;

	if (vcpu_run_ucall_soft(vcpu, &uc) != UCALL_SYNC || uc.args[0] != stage)
		return tap_ok(false, "%s: no stage %lu report", what, (unsigned long)stage);
	return tap_ok(uc.args[1] == lcr_dll && uc.args[2] == scr,
		      "%s: LCR:DLL 0x%04lx SCR 0x%02lx (want 0x%04lx 0x%02lx)", what,
		      (unsigned long)uc.args[1], (unsigned long)uc.args[2],
		      (unsigned long)lcr_dll, (unsigned long)scr);
}

/* Header checks and bad values: each refused, the device unchanged. */
static void bad_blobs(int vm_fd, uint32_t id, const struct blob *good)
{
	struct blob b = *good;
	bool ok;

	b.hdr.version = 99;
	ok = expect_errno(set_state(vm_fd, id, 0, &b, sizeof(b)), EINVAL, "version");
	b = *good;
	b.hdr.type = VSNIX_DEV_FW_CFG;
	ok &= expect_errno(set_state(vm_fd, id, 0, &b, sizeof(b)), EINVAL, "type");
	b = *good;
	ok &= expect_errno(set_state(vm_fd, id, 0, &b, sizeof(b) - 1), EINVAL, "size");
	b.uart.ier = 0xff;	/* bits 4-7 do not exist (PC16550D 8.6.6) */
	ok &= expect_errno(set_state(vm_fd, id, 0, &b, sizeof(b)), EINVAL, "IER");
	b = *good;
	ok &= expect_errno(set_state(vm_fd, id, VSNIX_DEVICE_STATE_RESET, &b, sizeof(b)),
			   EINVAL, "reset with data");
	ok &= expect_errno(set_state(vm_fd, 9999, VSNIX_DEVICE_STATE_RESET, NULL, 0),
			   ENOENT, "unknown id");
	tap_ok(ok, "bad blobs, flags and ids refused");
}

int main(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_UART16550, .console_fd = -1,
					 .uart.base = COM1 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct blob saved;
	uint32_t uart_id, ep_id, size;
	uint8_t buf[64];

	if (vsnix_cap(VSNIX_CAP_DEVICE_STATE) <= 0)
		tap_skip_all("no VSNIX_CAP_DEVICE_STATE");
	tap_plan(NR_TESTS);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_code);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "CREATE_DEVICE uart");
	uart_id = c.id;
	c = (struct vsnix_device_config){ .type = VSNIX_DEV_EXIT_PORT, .console_fd = -1,
					  .exit_port.port = EXIT_PORT };
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "CREATE_DEVICE exit port");
	ep_id = c.id;
	tap_ok(uart_id && ep_id && uart_id != ep_id, "CREATE_DEVICE gives ids (%u, %u)",
	       uart_id, ep_id);

	expect_report(vcpu, 1, 0x1b0c, 0x5a, "guest's own values");

	size = sizeof(saved) - 1;
	tap_ok(get_state(vm->fd, uart_id, &saved, &size) && errno == E2BIG &&
	       size == sizeof(saved), "GET with a short buffer: E2BIG and the size (%u)", size);
	size = sizeof(saved);
	tap_ok(!get_state(vm->fd, uart_id, &saved, &size) && size == sizeof(saved),
	       "GET_DEVICE_STATE of the UART");
	tap_ok(saved.hdr.type == VSNIX_DEV_UART16550 &&
	       saved.hdr.version == VSNIX_UART_STATE_VERSION &&
	       saved.hdr.size == sizeof(saved.uart) && saved.uart.lcr == 0x1b &&
	       saved.uart.dll == 0x0c && saved.uart.scr == 0x5a,
	       "blob: type %u version %u LCR 0x%x DLL 0x%x SCR 0x%x", saved.hdr.type,
	       saved.hdr.version, saved.uart.lcr, saved.uart.dll, saved.uart.scr);
	tap_ok(!set_state(vm->fd, uart_id, VSNIX_DEVICE_STATE_RESET, NULL, 0),
	       "SET_DEVICE_STATE RESET");
	expect_report(vcpu, 2, 0x0301, 0, "after reset: power-on values");

	bad_blobs(vm->fd, uart_id, &saved);
	tap_ok(!set_state(vm->fd, uart_id, 0, &saved, sizeof(saved)),
	       "SET_DEVICE_STATE with the saved blob");
	expect_report(vcpu, 3, 0x1b0c, 0x5a, "after restore: the saved values");

	size = sizeof(buf);
	tap_ok(!get_state(vm->fd, ep_id, buf, &size) &&
	       size == sizeof(struct vsnix_device_state_header) &&
	       ((struct vsnix_device_state_header *)buf)->type == VSNIX_DEV_EXIT_PORT,
	       "exit port: a header-only blob (%u bytes)", size);
	tap_ok(!set_state(vm->fd, ep_id, 0, buf, size) &&
	       !set_state(vm->fd, ep_id, VSNIX_DEVICE_STATE_RESET, NULL, 0),
	       "exit port: restore and reset");
	tap_ok(kernel_healthy(), "kernel healthy");
	vm_destroy(vm);
	tap_finish();
}
