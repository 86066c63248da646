// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel CMOS RTC (VSNIX_DEV_RTC, Motorola MC146818A): the time
 * read as Linux's mc146818_get_time reads it (wait for UIP to clear, BCD
 * fields, century at 0x32) matches the host's clock; binary and 12-hour
 * formats; setting the time with SET; registers A-D; the NMI-mask bit of
 * the index port; CMOS RAM and the memory-size bytes from ram_size.
 */
#include <time.h>
#include <unistd.h>
#include "vsnix_util.h"

#define RAM_SIZE	(256ull << 20)

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint8_t cmos(uint8_t idx)
{
	guest_outb(0x70, idx);
	return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	guest_outb(0x70, idx);
	guest_outb(0x71, v);
}

/* sec | min << 8 | hour << 16 | mday << 24 | mon << 32 | year << 40 | century << 48 */
static uint64_t read_clock(void)
{
	while (cmos(0x0a) & 0x80)
		;
	return cmos(0x00) | (uint64_t)cmos(0x02) << 8 | (uint64_t)cmos(0x04) << 16 |
	       (uint64_t)cmos(0x07) << 24 | (uint64_t)cmos(0x08) << 32 |
	       (uint64_t)cmos(0x09) << 40 | (uint64_t)cmos(0x32) << 48;
}

static void guest_main(void)
{
	uint8_t b = cmos(0x0b);

	GUEST_SYNC3(1, read_clock(), b);
	GUEST_SYNC3(2, cmos(0x0a), cmos(0x0d));
	/* Binary, 12-hour. */
	cmos_write(0x0b, (b | 0x04) & ~0x02);
	GUEST_SYNC3(3, read_clock(), cmos(0x0b));
	/* Set 1999-12-31 23:59:58 in binary 24-hour mode. */
	cmos_write(0x0b, 0x80 | 0x04 | 0x02);
	cmos_write(0x00, 58);
	cmos_write(0x02, 59);
	cmos_write(0x04, 23);
	cmos_write(0x07, 31);
	cmos_write(0x08, 12);
	cmos_write(0x09, 99);
	cmos_write(0x32, 19);
	GUEST_SYNC2(4, read_clock());		/* SET: frozen, as written */
	cmos_write(0x0b, 0x04 | 0x02);
	GUEST_SYNC(5);				/* the host waits 3 s */
	GUEST_SYNC2(6, read_clock());
	/* NMI mask bit of the index port; RAM; memory size. */
	guest_outb(0x70, 0x80 | 0x0d);
	GUEST_SYNC2(7, inb(0x71));
	cmos_write(0x40, 0x5a);
	GUEST_SYNC3(8, cmos(0x40), inb(0x70));
	GUEST_SYNC3(9, cmos(0x34) | cmos(0x35) << 8, cmos(0x15) | cmos(0x16) << 8);
	GUEST_SYNC2(10, cmos(0x0c));
}

static unsigned int bcd(unsigned int v)
{
	return (v & 0xf) + (v >> 4) * 10;
}

static time_t clock_to_time(uint64_t c, bool binary, bool h24)
{
	unsigned int (*dec)(unsigned int) = binary ? NULL : bcd;
	unsigned int f[7], i, hour;
	struct tm tm = { 0 };

	for (i = 0; i < 7; i++)
		f[i] = (c >> (8 * i)) & 0xff;
	hour = f[2];
	if (!h24)
		hour &= 0x7f;
	for (i = 0; i < 7; i++)
		f[i] = dec ? dec(i == 2 ? hour : f[i]) : (i == 2 ? hour : f[i]);
	if (!h24)
		f[2] = f[2] % 12 + (((c >> 16) & 0x80) ? 12 : 0);
	tm.tm_sec = f[0];
	tm.tm_min = f[1];
	tm.tm_hour = f[2];
	tm.tm_mday = f[3];
	tm.tm_mon = f[4] - 1;
	tm.tm_year = f[6] * 100 + f[5] - 1900;
	return timegm(&tm);
}

int main(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_RTC, .console_fd = -1 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	time_t host, guest;
	bool ok;

	vsnix_dev_fd();
	tap_plan(13);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	c.rtc.ram_size = RAM_SIZE;
	tap_ok(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) == 0, "CREATE_DEVICE RTC");

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	host = time(NULL);
	guest = clock_to_time(uc.args[1], false, true);
	tap_ok(ok && uc.args[2] == 0x02 && guest <= host && host - guest <= 2,
	       "BCD 24-hour time read as Linux does is the host's (%ld vs %ld), B = 0x%lx",
	       (long)guest, (long)host, (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 0x26 && uc.args[2] == 0x80,
	       "register A 0x%lx (32.768 kHz, 1024 Hz, UIP clear), D 0x%lx (VRT)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	host = time(NULL);
	guest = clock_to_time(uc.args[1], true, false);
	tap_ok(ok && uc.args[2] == 0x04 && guest <= host && host - guest <= 2,
	       "binary 12-hour time is the host's too (%ld vs %ld, hour byte 0x%lx)",
	       (long)guest, (long)host, (unsigned long)(uc.args[1] >> 16) & 0xff);
	ok = vcpu_run_sync_is(vcpu, &uc, 4);
	tap_ok(ok && clock_to_time(uc.args[1], true, true) == 946684798,
	       "with SET the clock holds what the guest wrote (1999-12-31 23:59:58)");
	ok = vcpu_run_sync_is(vcpu, &uc, 5);
	sleep(3);
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 6);
	guest = clock_to_time(uc.args[1], true, true);
	tap_ok(ok && guest >= 946684798 + 3 && guest <= 946684798 + 5,
	       "after SET is cleared it runs from there, across the century (%ld)",
	       (long)guest);
	ok = vcpu_run_sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[1] == 0x80, "index with the NMI-mask bit selects register D (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 8);
	tap_ok(ok && uc.args[1] == 0x5a && uc.args[2] == 0xff,
	       "CMOS RAM byte 0x40 keeps 0x%lx; index port reads 0x%lx (write-only)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 9);
	tap_ok(ok && uc.args[1] == (RAM_SIZE - (16 << 20)) / 65536 && uc.args[2] == 640,
	       "memory above 16 MiB: %lu x 64 KiB, base memory %lu KiB",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 10);
	tap_ok(ok && (uc.args[1] & 0x10), "register C: UF set after updates (0x%lx)",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	c.rtc.ram_size = 0;
	c.rtc.reserved[0] = 1;
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), EINVAL, "RTC"),
	       "RTC with reserved bytes set: EINVAL");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
