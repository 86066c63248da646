# SPDX-License-Identifier: GPL-2.0
# vSnix top-level build. `make` builds the module, vsnixctl, the bpf objects
# and the selftests; `make test` proves them in the emulated PCs.

# Kernel build tree: the running kernel's when present, else the stock
# kernel of the test rig (bookworm's 6.1, not the 6.12 one beside it).
# Expanded once (:=): it is exported, and stock-kernel.sh asks dpkg.
ifndef KDIR
KDIR := $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(wildcard /lib/modules/$(shell scripts/rig/stock-kernel.sh 2>/dev/null)/build))
endif

export KDIR

# A subset of the selftests for the test targets: make test-quick T="a b".
T ?=

.PHONY: all modules userspace selftests bpf clean deps deps-check \
	rig-modules test test-quick test-612 test-vmx test-debug kunit-kernel demo fuzz test-kut \
	test-solo5 check install bench-trace
all: modules userspace selftests bpf

# Every build and test target first checks (cheaply, with dpkg-query) that
# the Debian packages are there, and installs them when they are not.
deps:
	scripts/setup-deps.sh

deps-check:
	@scripts/setup-deps.sh --if-missing

# KDIR is looked up again here: deps-check may have just installed the
# headers, after this Makefile was read.
modules: | deps-check
	@kdir="$(KDIR)"; \
	[ -n "$$kdir" ] || \
		kdir=/lib/modules/$$(scripts/rig/stock-kernel.sh)/build; \
	test -d "$$kdir" || { echo "no kernel headers: run 'make deps'"; exit 1; }; \
	echo "$(MAKE) -C $$kdir M=$(CURDIR) modules"; \
	$(MAKE) -C $$kdir M=$(CURDIR) modules

userspace: bpf | deps-check
	$(MAKE) -C userspace

selftests: | deps-check
	$(MAKE) -C selftests

bpf: | deps-check
	$(MAKE) -C bpf

# The rig boots the stock Debian kernel: vsnix.ko must be built for it,
# whatever kernel this host runs.
rig-modules: | deps-check
	$(MAKE) modules KDIR=/lib/modules/$$(scripts/rig/stock-kernel.sh)/build

# Host unit tests (no /dev/vsnix): libvsnix's ACPI tables through iasl -d,
# the pool library, vsnixd and vsnixctl, and what `make install` lays out;
# kmod/core reaches arch code through core/arch.h only.
check: | deps-check
	scripts/check-core-arch.sh --self-test
	scripts/check-core-arch.sh
	$(MAKE) -C userspace check
	packaging/tests/install_check.sh

# SVM (QEMU) on 6.1 and on 6.12, VMX (Bochs), then KUnit and the selftests
# on the debug kernel.
test: all
	$(MAKE) check
	$(MAKE) rig-modules
	scripts/rig/test.sh --tests "$(T)"

# The inner loop: QEMU/SVM on the stock kernel only.
# make install [PREFIX=/usr/local] [DESTDIR=]: vsnixctl, vsnixd, their
# man pages, the systemd units (vsnixd.service, vsnixd.socket), the udev
# rule, the vsnix group (sysusers.d) and the module's sources for DKMS in
# /usr/src/vsnix-$(VSNIX_VERSION) (packaging/dkms.conf; Documentation/vsnixd.rst,
# "Installing"). The version is dkms.conf's PACKAGE_VERSION.
VSNIX_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' packaging/dkms.conf)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
UDEVDIR ?= $(PREFIX)/lib/udev/rules.d
# Read from /usr/lib and /etc only, whatever the prefix (sysusers.d(5)).
SYSUSERSDIR ?= /usr/lib/sysusers.d
DKMSDIR ?= /usr/src/vsnix-$(VSNIX_VERSION)
# The module's sources, not what a build left beside them.
DKMS_SRCS = Kbuild $(shell find kmod uapi -type f \( -name '*.[chS]' -o -name Kbuild \) \
	! -name '*.mod.c' | sort)

install: userspace
	install -D -m 0755 userspace/vsnixctl $(DESTDIR)$(BINDIR)/vsnixctl
	install -D -m 0755 userspace/vsnixd/vsnixd $(DESTDIR)$(SBINDIR)/vsnixd
	install -D -m 0644 Documentation/man/vsnixctl.1 $(DESTDIR)$(MANDIR)/man1/vsnixctl.1
	install -D -m 0644 Documentation/man/vsnixd.8 $(DESTDIR)$(MANDIR)/man8/vsnixd.8
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
		userspace/vsnixd/vsnixd.service > $(DESTDIR)$(UNITDIR)/vsnixd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vsnixd.service
	install -m 0644 userspace/vsnixd/vsnixd.socket $(DESTDIR)$(UNITDIR)/vsnixd.socket
	install -D -m 0644 userspace/udev/60-vsnix.rules $(DESTDIR)$(UDEVDIR)/60-vsnix.rules
	install -D -m 0644 packaging/vsnix.sysusers $(DESTDIR)$(SYSUSERSDIR)/vsnix.conf
	@[ -n "$(VSNIX_VERSION)" ] || { echo "packaging/dkms.conf: no PACKAGE_VERSION"; exit 1; }
	rm -rf $(DESTDIR)$(DKMSDIR)
	for f in $(DKMS_SRCS); do install -D -m 0644 $$f $(DESTDIR)$(DKMSDIR)/$$f || exit 1; done
	install -m 0644 packaging/dkms.conf $(DESTDIR)$(DKMSDIR)/dkms.conf

test-quick: rig-modules userspace selftests
	scripts/rig/test.sh --quick --tests "$(T)"

# QEMU/SVM on Debian's 6.12 kernel only (vsnix.ko built in build/k612).
test-612: userspace selftests | deps-check
	scripts/rig/test.sh --612 --tests "$(T)"

test-vmx: rig-modules userspace selftests
	scripts/rig/test.sh --vmx --tests "$(T)"

test-debug: userspace selftests | deps-check
	scripts/rig/test.sh --debug --tests "$(T)"

# Benchmarks are not tests (Documentation/benchmarks.rst): the hypercall
# round trip with tracepoints compiled in but off, against a build without
# them, interleaved in one emulated PC: make bench-trace [ROUNDS=12]
# [ITERS=4000] [BATCH=20].
ROUNDS ?= 12
ITERS ?= 4000
BATCH ?= 20
bench-trace: | deps-check
	userspace/bench/trace-bench.sh $(ROUNDS) $(ITERS) $(BATCH)

# The fuzzers for as long as asked: make fuzz N=1000000 [SEED=..]
# [MACHINE=svm-debug|svm|vmx] (default: the KASAN/lockdep kernel).
N ?= 1000000
MACHINE ?= svm-debug
fuzz: userspace selftests | deps-check
	@[ "$(MACHINE)" = svm-debug ] || $(MAKE) rig-modules
	scripts/rig/fuzz.sh $(N) --machine $(MACHINE) $(if $(SEED),--seed $(SEED))

# Solo5's own tests run by vsnixctl on both vendors (scripts/solo5/test.sh):
# make test-solo5 SOLO5=<checkout of github.com/Solo5/solo5> [SOLO5_ONLY=--svm]
SOLO5 ?=
SOLO5_ONLY ?=
ifeq ($(SOLO5),)
test-solo5:
	@scripts/solo5/test.sh ""
else
test-solo5: rig-modules userspace
	scripts/solo5/test.sh "$(SOLO5)" $(SOLO5_ONLY)
endif

# kvm-unit-tests (x86, the LAPIC/SMP entries) through vsnixctl in the rig:
# make test-kut KUT=<kvm-unit-tests checkout> [KUT_ONLY=--vmx|--both].
# Needs a checkout (network), so it is not part of make test.
KUT ?=
KUT_ONLY ?=
ifeq ($(KUT),)
test-kut:
	@scripts/kut/test.sh ""
else
test-kut: rig-modules userspace
	scripts/kut/test.sh "$(KUT)" $(KUT_ONLY)
endif

# The KUnit/debug kernel alone (cached in $VSNIX_CACHE, ~15-20 min cold).
kunit-kernel: | deps-check
	scripts/kunit/build-kernel.sh

# The demo: builds, then vsnixd runs a pool of a Linux VM and a unikernel
# (userspace/demo.sh, scripts/demo/).
demo: modules userspace selftests
	userspace/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C userspace clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C bpf clean
	rm -rf build/rig build/kdebug build/k612
