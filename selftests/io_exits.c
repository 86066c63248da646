// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O exits: OUT and IN of 1, 2 and 4 bytes (DX and immediate port
 * forms), the data both ways, where IN data lands in RAX (AL and AX keep
 * the upper bits; a 32-bit IN zero-extends, Intel SDM Vol 1, 3.4.1.1),
 * string I/O, and resumption after each exit.
 */
#include "vsnix_util.h"

static char guest_in_buf[8];
static const char guest_out_str[] = "vSnx";

static void guest_io(void)
{
	const char *src = guest_out_str;
	char *dst = guest_in_buf;
	uint64_t rax, count;

	guest_outb(0x10, 0xab);
	guest_outw(0x12, 0xbeef);
	guest_outl(0x14, 0xdeadbeef);

	rax = 0x1122334455667788ul;
	asm volatile("inb %%dx, %%al" : "+a"(rax) : "d"(0x20));
	GUEST_ASSERT_EQ(rax, 0x11223344556677a5ul);
	rax = 0x1122334455667788ul;
	asm volatile("inw %%dx, %%ax" : "+a"(rax) : "d"(0x22));
	GUEST_ASSERT_EQ(rax, 0x112233445566b00cul);
	rax = 0x1122334455667788ul;
	asm volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(0x24));
	GUEST_ASSERT_EQ(rax, 0xcafef00dul);

	asm volatile("outb %%al, $0x80" : : "a"(0x5a));
	rax = 0;
	asm volatile("inb $0x81, %%al" : "+a"(rax));
	GUEST_ASSERT_EQ(rax, 0x3c);

	count = 4;
	asm volatile("cld; rep outsb" : "+S"(src), "+c"(count) : "d"(0x30) : "memory");
	GUEST_ASSERT_EQ(count, 0);
	count = 4;
	asm volatile("cld; rep insb" : "+D"(dst), "+c"(count) : "d"(0x32) : "memory");
	GUEST_ASSERT_EQ(count, 0);
	GUEST_ASSERT_EQ(dst - guest_in_buf, 4);
	GUEST_ASSERT(guest_in_buf[0] == 'a' && guest_in_buf[1] == 'b' &&
		     guest_in_buf[2] == 'c' && guest_in_buf[3] == 'd');
	GUEST_DONE();
}

static bool run_expect_io(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t dir,
			  uint8_t size)
{
	if (vcpu_run_raw(vcpu)) {
		tap_diag("RUN failed: %s", strerror(errno));
		return false;
	}
	if (vcpu_is_io(vcpu, port, dir, size))
		return true;
	tap_diag("want %s port 0x%x size %u, got %s", dir == VSNIX_EXIT_IO_OUT ? "out" : "in",
		 port, size, vcpu_exit_str(vcpu));
	return false;
}

static uint32_t io_value(struct vsnix_test_vcpu *vcpu)
{
	uint32_t v = 0;

	memcpy(&v, vcpu_io_data(vcpu), vcpu->run->io.size);
	return v;
}

static void set_in_value(struct vsnix_test_vcpu *vcpu, uint32_t v)
{
	memcpy(vcpu_io_data(vcpu), &v, vcpu->run->io.size);
}

/* String I/O of 4 bytes, in one exit with count 4 or in several. */
static bool string_io(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t dir,
		      char *data)
{
	struct vsnix_run *run = vcpu->run;
	unsigned int done = 0;

	while (done < 4) {
		if (vcpu_run_raw(vcpu)) {
			tap_diag("RUN failed: %s", strerror(errno));
			return false;
		}
		if (run->exit_reason != VSNIX_EXIT_IO || run->io.port != port ||
		    run->io.direction != dir || run->io.size != 1 ||
		    run->io.count == 0 || run->io.count > 4 - done ||
		    run->io.data_offset + run->io.count > vcpu->run_size) {
			tap_diag("string I/O: got %s after %u bytes", vcpu_exit_str(vcpu), done);
			return false;
		}
		if (dir == VSNIX_EXIT_IO_OUT)
			memcpy(data + done, vcpu_io_data(vcpu), run->io.count);
		else
			memcpy(vcpu_io_data(vcpu), data + done, run->io.count);
		done += run->io.count;
	}
	return true;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	char out[5] = "", in[5] = "abcd";
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(12);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_io);

	ok = run_expect_io(vcpu, 0x10, VSNIX_EXIT_IO_OUT, 1) && io_value(vcpu) == 0xab;
	tap_ok(ok, "OUTB: port 0x10, 1 byte, 0xab");
	ok = run_expect_io(vcpu, 0x12, VSNIX_EXIT_IO_OUT, 2) && io_value(vcpu) == 0xbeef;
	tap_ok(ok, "OUTW: port 0x12, 2 bytes, 0xbeef");
	ok = run_expect_io(vcpu, 0x14, VSNIX_EXIT_IO_OUT, 4) && io_value(vcpu) == 0xdeadbeef;
	tap_ok(ok, "OUTL: port 0x14, 4 bytes, 0xdeadbeef");

	ok = run_expect_io(vcpu, 0x20, VSNIX_EXIT_IO_IN, 1);
	if (ok)
		set_in_value(vcpu, 0xa5);
	tap_ok(ok, "INB exit: port 0x20, 1 byte");
	ok = run_expect_io(vcpu, 0x22, VSNIX_EXIT_IO_IN, 2);
	if (ok)
		set_in_value(vcpu, 0xb00c);
	tap_ok(ok, "INW exit: port 0x22, 2 bytes (guest checked AL, RAX upper bits kept)");
	ok = run_expect_io(vcpu, 0x24, VSNIX_EXIT_IO_IN, 4);
	if (ok)
		set_in_value(vcpu, 0xcafef00d);
	tap_ok(ok, "INL exit: port 0x24, 4 bytes (guest checked AX, RAX upper bits kept)");

	ok = run_expect_io(vcpu, 0x80, VSNIX_EXIT_IO_OUT, 1) && io_value(vcpu) == 0x5a;
	tap_ok(ok, "OUT imm8 port: guest checked EAX zero-extended; port 0x80, 0x5a");
	ok = run_expect_io(vcpu, 0x81, VSNIX_EXIT_IO_IN, 1);
	if (ok)
		set_in_value(vcpu, 0x3c);
	tap_ok(ok, "IN imm8 port: port 0x81");

	ok = string_io(vcpu, 0x30, VSNIX_EXIT_IO_OUT, out) && !strcmp(out, "vSnx");
	tap_ok(ok, "REP OUTSB: 4 bytes \"%s\"", out);
	ok = string_io(vcpu, 0x32, VSNIX_EXIT_IO_IN, in);
	tap_ok(ok, "REP INSB: 4 bytes requested");

	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE,
	       "guest resumed after every exit and saw the right data");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
