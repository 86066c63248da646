// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel ACPI fixed hardware (VSNIX_DEV_ACPI_PM, ACPI 6.5, 4.8):
 * PM1 status (write 1 to clear) and enable, PM1 control (SCI_EN always 1,
 * SLP_EN write-only), the GPE0 block, the SCI as a level on GSI 9 (seen in
 * the IOAPIC's pin levels), save/restore, the reset register and S5, each
 * ending the VM with its own guest exit source; bad configs are refused.
 */
#include "vsnix_util.h"

#define EVT		0x600
#define CNT		0x604
#define GPE		0x620
#define RST		0xcf9
#define SCI		9
#define S5		5
#define IOAPIC_BASE	0xfec00000ul

#define PWRBTN		0x100
#define TMR		0x001
#define WAK		0x8000
#define SLP_EN		0x2000

static inline uint8_t inb(uint16_t p)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static inline uint16_t inw(uint16_t p)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static inline uint32_t inl(uint16_t p)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static void guest_main(void)
{
	/* 1: power-on values; SCI_EN cannot be cleared. */
	GUEST_SYNC3(1, inl(EVT) | (uint64_t)inw(CNT) << 32, inl(GPE));
	guest_outw(CNT, 0);
	GUEST_SYNC2(2, inw(CNT));
	/* 3: enables by word and by byte; status writes of 0 change nothing. */
	guest_outw(EVT + 2, PWRBTN | TMR);
	guest_outb(EVT + 3, 0x01);
	guest_outw(EVT, 0);
	GUEST_SYNC3(3, inw(EVT + 2), inl(EVT));
	/* 4: the host set PWRBTN_STS: seen, cleared by writing 1. */
	GUEST_SYNC2(4, inw(EVT));
	guest_outw(EVT, PWRBTN);
	GUEST_SYNC2(5, inw(EVT));
	/* 6: GPE0: enable bits 0 and 1; the host raises GPE 1; clear it. */
	guest_outw(GPE + 2, 0x0003);
	GUEST_SYNC2(6, inl(GPE));
	GUEST_SYNC2(7, inl(GPE));
	guest_outb(GPE, 0x02);
	GUEST_SYNC2(8, inl(GPE));
	/* 9: S1 is not offered: an immediate wake, WAK_STS set; SLP_TYP kept. */
	guest_outw(CNT, 1 << 10 | SLP_EN);
	GUEST_SYNC3(9, inw(EVT), inw(CNT));
	guest_outw(EVT, WAK);
	/* 10: the reset register keeps SYS_RST and FULL_RST, nothing else. */
	guest_outb(RST, 0x0a | 0xf0);
	GUEST_SYNC3(10, inw(EVT), inb(RST));
	guest_outb(RST, 0);
	/* 11: S5 by a 16-bit write: the VM ends. */
	guest_outw(CNT, S5 << 10 | SLP_EN);
	GUEST_SYNC(99);
}

static void guest_reset(void)
{
	guest_outb(RST, 0x02);
	guest_outb(RST, 0x06);	/* the FADT's RESET_VALUE */
	GUEST_SYNC(99);
}

/* S5 written as two bytes: SLP_EN acts once its byte arrives. */
static void guest_s5_bytes(void)
{
	guest_outb(CNT, 0);
	guest_outb(CNT + 1, (S5 << 10 | SLP_EN) >> 8);
	GUEST_SYNC(99);
}

static int create_dev(struct vsnix_test_vm *vm, struct vsnix_device_config *c)
{
	int ret;

	c->console_fd = -1;
	ret = ioctl(vm->fd, VSNIX_CREATE_DEVICE, c);
	return ret ? ret : (int)c->id;
}

static struct vsnix_device_config pm_cfg(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_ACPI_PM };

	c.acpi_pm.pm1a_evt = EVT;
	c.acpi_pm.pm1a_cnt = CNT;
	c.acpi_pm.gpe0 = GPE;
	c.acpi_pm.reset_port = RST;
	c.acpi_pm.sci_gsi = SCI;
	c.acpi_pm.s5_slp_typ = S5;
	return c;
}

static int state_io(struct vsnix_test_vm *vm, uint32_t id, unsigned long req,
		    uint32_t flags, struct vsnix_acpi_pm_state *s)
{
	struct {
		struct vsnix_device_state_header h;
		struct vsnix_acpi_pm_state s;
	} blob = { { VSNIX_DEV_ACPI_PM, VSNIX_ACPI_PM_STATE_VERSION,
		     sizeof(*s), 0 }, *s };
	struct vsnix_device_state st = { .id = id, .flags = flags,
					 .size = flags ? 0 : sizeof(blob),
					 .data = flags ? 0 : (uintptr_t)&blob };
	int ret = ioctl(vm->fd, req, &st);

	if (!ret && req == VSNIX_GET_DEVICE_STATE)
		*s = blob.s;
	return ret;
}

/* The SCI as the IOAPIC sees it: pin 9's input level. */
static int sci_level(struct vsnix_test_vm *vm, uint32_t ioapic_id)
{
	struct {
		struct vsnix_device_state_header h;
		struct vsnix_ioapic_state s;
	} blob;
	struct vsnix_device_state st = { .id = ioapic_id, .size = sizeof(blob),
					 .data = (uintptr_t)&blob };

	if (ioctl(vm->fd, VSNIX_GET_DEVICE_STATE, &st))
		return -1;
	return !!(blob.s.levels & (1u << SCI));
}

static bool ended(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu,
		  uint32_t source)
{
	struct vsnix_vm_status st;
	int r = vcpu_run_raw(vcpu);

	if (r || vcpu->run->exit_reason != VSNIX_EXIT_GUEST_EXIT) {
		tap_diag("RUN %d: %s", r, vcpu_exit_str(vcpu));
		return false;
	}
	return vcpu->run->guest_exit.source == source &&
	       vcpu->run->guest_exit.status == 0 &&
	       !ioctl(vm->fd, VSNIX_GET_VM_STATUS, &st) && st.exited &&
	       st.exit_status == 0;
}

static void test_registers(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_IOAPIC };
	struct vsnix_acpi_pm_state s = { 0 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	int pm_id, io_id;
	struct ucall uc;
	bool ok;

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	c.ioapic.base = IOAPIC_BASE;
	io_id = create_dev(vm, &c);
	c = pm_cfg();
	pm_id = create_dev(vm, &c);
	tap_ok(io_id > 0 && pm_id > 0, "CREATE_DEVICE IOAPIC and ACPI PM (ids %d, %d)",
	       io_id, pm_id);

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == 1ull << 32 && uc.args[2] == 0,
	       "power-on: PM1_STS/EN 0, PM1_CNT SCI_EN, GPE0 0 (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 1, "SCI_EN stays 1 after writing 0 (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[1] == (PWRBTN | TMR) &&
	       uc.args[2] == (uint64_t)(PWRBTN | TMR) << 16 && !sci_level(vm, io_id),
	       "PM1_EN 0x%lx by word and byte, no status, SCI low",
	       (unsigned long)uc.args[1]);

	ok = !state_io(vm, pm_id, VSNIX_GET_DEVICE_STATE, 0, &s);
	tap_ok(ok && s.pm1_en == (PWRBTN | TMR) && s.pm1_cnt == 1,
	       "GET_DEVICE_STATE: pm1_en 0x%x, pm1_cnt 0x%x", s.pm1_en, s.pm1_cnt);
	s.pm1_sts = PWRBTN;	/* the power button, pressed from the host */
	tap_ok(!state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s) &&
	       sci_level(vm, io_id) == 1,
	       "SET_DEVICE_STATE PWRBTN_STS (enabled): SCI asserted");
	ok = vcpu_run_sync_is(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == PWRBTN, "guest reads PWRBTN_STS (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 0 && sci_level(vm, io_id) == 0,
	       "writing 1 clears it and the SCI (0x%lx)", (unsigned long)uc.args[1]);

	ok = vcpu_run_sync_is(vcpu, &uc, 6);
	tap_ok(ok && uc.args[1] == 0x30000 && !sci_level(vm, io_id),
	       "GPE0_EN 0x3, GPE0_STS 0 (0x%lx)", (unsigned long)uc.args[1]);
	state_io(vm, pm_id, VSNIX_GET_DEVICE_STATE, 0, &s);
	s.gpe0_sts = 0x0006;	/* GPE 1 (enabled) and GPE 2 (not) */
	ok = !state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s) &&
	     sci_level(vm, io_id) == 1 && vcpu_run_sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[1] == 0x30006, "GPE 1 raised: SCI, GPE0 0x%lx",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 8);
	tap_ok(ok && uc.args[1] == 0x30004 && sci_level(vm, io_id) == 0,
	       "GPE 1 cleared: SCI low, GPE 2 still set (0x%lx)",
	       (unsigned long)uc.args[1]);

	ok = vcpu_run_sync_is(vcpu, &uc, 9);
	tap_ok(ok && uc.args[1] == WAK && uc.args[2] == (1 | 1 << 10),
	       "S1 ignored: WAK_STS set (0x%lx), PM1_CNT 0x%lx without SLP_EN",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 10);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0x0a,
	       "WAK_STS cleared; reset register keeps bits 1 and 3 (0x%lx)",
	       (unsigned long)uc.args[2]);
	tap_ok(ended(vm, vcpu, VSNIX_GUEST_EXIT_POWEROFF),
	       "S5: GUEST_EXIT source POWEROFF, status 0");

	s = (struct vsnix_acpi_pm_state){ .pm1_cnt = 1 | SLP_EN };
	ok = expect_errno(state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s),
			  EINVAL, "SLP_EN");
	s = (struct vsnix_acpi_pm_state){ .pm1_cnt = 0 };
	ok &= expect_errno(state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s),
			   EINVAL, "SCI_EN 0");
	s = (struct vsnix_acpi_pm_state){ .pm1_cnt = 1, .pm1_en = 0x8000 };
	ok &= expect_errno(state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s),
			   EINVAL, "reserved PM1_EN bit");
	s = (struct vsnix_acpi_pm_state){ .pm1_cnt = 1, .reset = 0x04 };
	ok &= expect_errno(state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s),
			   EINVAL, "RST_CPU in the state");
	tap_ok(ok, "SET_DEVICE_STATE refuses SLP_EN, SCI_EN 0, reserved bits");
	s = (struct vsnix_acpi_pm_state){ .pm1_cnt = 1, .pm1_en = PWRBTN,
					  .pm1_sts = PWRBTN };
	ok = !state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, 0, &s) &&
	     sci_level(vm, io_id) == 1 &&
	     !state_io(vm, pm_id, VSNIX_SET_DEVICE_STATE, VSNIX_DEVICE_STATE_RESET, &s) &&
	     sci_level(vm, io_id) == 0 &&
	     !state_io(vm, pm_id, VSNIX_GET_DEVICE_STATE, 0, &s) &&
	     s.pm1_en == 0 && s.pm1_sts == 0 && s.pm1_cnt == 1;
	tap_ok(ok, "RESET: power-on state, SCI deasserted");
	vm_destroy(vm);
}

static void test_exits(void)
{
	struct vsnix_device_config c = pm_cfg();
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_reset);
	tap_ok(create_dev(vm, &c) > 0 && ended(vm, vcpu, VSNIX_GUEST_EXIT_RESET),
	       "reset register 0x02 then 0x06: GUEST_EXIT source RESET, status 0");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_s5_bytes);
	c = pm_cfg();
	tap_ok(create_dev(vm, &c) > 0 && ended(vm, vcpu, VSNIX_GUEST_EXIT_POWEROFF),
	       "S5 written byte by byte: GUEST_EXIT source POWEROFF");
	vm_destroy(vm);
}

static bool bad(struct vsnix_test_vm *vm, struct vsnix_device_config c, int err,
		const char *what)
{
	return expect_errno(create_dev(vm, &c), err, what);
}

static void test_bad_configs(void)
{
	struct vsnix_device_config c = pm_cfg(), d;
	struct vsnix_test_vm *vm = vm_create(1 << 20);
	bool ok = true;

	d = c; d.acpi_pm.pm1a_cnt = EVT + 2;
	ok &= bad(vm, d, EINVAL, "PM1_CNT inside PM1_EVT");
	d = c; d.acpi_pm.reset_port = GPE + 3;
	ok &= bad(vm, d, EINVAL, "reset port inside GPE0");
	d = c; d.acpi_pm.pm1a_evt = 0x602;
	ok &= bad(vm, d, EINVAL, "PM1_EVT not 4-aligned");
	d = c; d.acpi_pm.pm1a_cnt = 0x605;
	ok &= bad(vm, d, EINVAL, "PM1_CNT odd");
	d = c; d.acpi_pm.gpe0 = 0;
	ok &= bad(vm, d, EINVAL, "GPE0 port 0");
	d = c; d.acpi_pm.pm1a_evt = 0xfffe;
	ok &= bad(vm, d, EINVAL, "PM1_EVT past 0xffff");
	d = c; d.acpi_pm.s5_slp_typ = 8;
	ok &= bad(vm, d, EINVAL, "SLP_TYP 8");
	d = c; d.acpi_pm.sci_gsi = 1024;
	ok &= bad(vm, d, EINVAL, "GSI 1024");
	d = c; d.acpi_pm.pad[1] = 1;
	ok &= bad(vm, d, EINVAL, "pad");
	d = c; d.acpi_pm.reserved[4] = 1;
	ok &= bad(vm, d, EINVAL, "reserved");
	d = c; d.raw[sizeof(d.acpi_pm)] = 1;
	ok &= bad(vm, d, EINVAL, "bytes past the config");
	tap_ok(ok, "overlapping, unaligned or zero ports, SLP_TYP 8, GSI 1024, pad: EINVAL");

	d = c; d.acpi_pm.reset_port = 0;
	ok = create_dev(vm, &d) > 0 && bad(vm, c, EEXIST, "second device") &&
	     bad(vm, (struct vsnix_device_config){ .type = VSNIX_DEV_PM_TIMER,
						   .pm_timer.port = CNT }, EEXIST,
		 "PM timer over PM1_CNT");
	d = c; d.acpi_pm.pm1a_evt = 0x700; d.acpi_pm.pm1a_cnt = 0x704;
	d.acpi_pm.gpe0 = 0x720;
	ok &= create_dev(vm, &d) > 0;	/* the failed one left 0xcf9 free */
	tap_ok(ok, "without a reset port; taken ports EEXIST, nothing left behind");
	vm_destroy(vm);
}

int main(void)
{
	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_ACPI_PM)))
		tap_skip_all("no VSNIX_DEV_ACPI_PM");
	tap_plan(21);
	test_registers();
	test_exits();
	test_bad_configs();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
