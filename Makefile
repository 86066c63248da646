# SPDX-License-Identifier: GPL-2.0
# vSnix top-level build. `make` builds the module, vsnixctl, the bpf objects
# and the selftests; `make test` proves them in the emulated PCs.

# Kernel build tree: the running kernel's when present, else the installed
# Debian linux-headers-*-amd64 (the stock kernel of the test rig).
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

export KDIR

.PHONY: all modules userspace selftests bpf clean
all: modules userspace selftests bpf

modules:
	@test -n "$(KDIR)" || { echo "no kernel headers: run 'make deps'"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests

bpf:
	$(MAKE) -C bpf

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C userspace clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C bpf clean
