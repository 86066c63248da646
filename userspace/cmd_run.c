// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl run: boots a Solo5 hvt unikernel or a multiboot kernel and
 * exits with the guest's status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsnixctl.h"

#define OPT_STDIN	0x100	/* long-only options */
#define OPT_BOOT	0x101
#define OPT_NO_CACHE	0x102
#define OPT_RNG		0x103
#define OPT_DUMPCORE	0x104
#define DEFAULT_MEM	(128ULL << 20)
#define VSNIX_MAX_CPUS	64	/* VSNIX_CAP_NR_VCPUS */

/* NAME=VALUE with NAME a manifest name; VALUE kept as a pointer into arg. */
static int parse_attach(const char *arg, struct attach_spec *a, bool net)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;
	char *comma;

	if (!eq || n == 0 || n >= sizeof(a->name) || !eq[1])
		return -1;
	memcpy(a->name, arg, n);
	a->name[n] = '\0';
	a->path = eq + 1;
	comma = strchr(a->path, ',');
	if (net && comma) {
		if (parse_mac(comma + 1, a->mac))
			return -1;
		a->has_mac = true;
		*comma = '\0';
	}
	return 0;
}

/* --block-sector-size NAME=N: N is checked by the hvt loader. */
static int apply_sector_sizes(struct run_options *opt)
{
	unsigned int i, j;

	for (i = 0; i < opt->nr_sector_args; i++) {
		const char *arg = opt->sector_arg[i], *eq = strchr(arg, '=');
		char *end;
		unsigned long n;

		n = eq ? strtoul(eq + 1, &end, 10) : 0;
		if (!eq || !eq[1] || *end || !n || n > UINT32_MAX) {
			fprintf(stderr, "vsnixctl: bad --block-sector-size '%s' (NAME=N)\n", arg);
			return -1;
		}
		for (j = 0; j < opt->nr_block; j++) {
			if (strlen(opt->block[j].name) == (size_t)(eq - arg) &&
			    !strncmp(opt->block[j].name, arg, eq - arg))
				break;
		}
		if (j == opt->nr_block) {
			fprintf(stderr, "vsnixctl: --block-sector-size '%s': no --block with that name\n",
				arg);
			return -1;
		}
		opt->block[j].sector_size = n;
	}
	return 0;
}

/* --disk PATH[,ro][,serial=S]: 0, or -1 after a message. */
static int parse_disk(char *arg, struct run_options *opt)
{
	struct vx_disk *d = &opt->disk[opt->nr_disk];
	char *tok, *save = NULL;

	if (opt->nr_disk == VX_MAX_DISKS) {
		fprintf(stderr, "vsnixctl: at most %d --disk\n", VX_MAX_DISKS);
		return -1;
	}
	memset(d, 0, sizeof(*d));
	d->path = strtok_r(arg, ",", &save);
	if (!d->path || !*d->path)
		goto bad;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "ro"))
			d->read_only = true;
		else if (!strncmp(tok, "serial=", 7) &&
			 strlen(tok + 7) <= VSNIX_VIRTIO_BLK_SERIAL_LEN)
			d->serial = tok + 7;
		else
			goto bad;
	}
	opt->nr_disk++;
	return 0;
bad:
	fprintf(stderr, "vsnixctl: bad --disk (PATH[,ro][,serial=S], S at most %d bytes)\n",
		VSNIX_VIRTIO_BLK_SERIAL_LEN);
	return -1;
}

void pc_devices(const struct run_options *opt, struct vx_boot *b)
{
	b->disks = opt->disk;
	b->nr_disks = opt->nr_disk;
	b->virtio_console = opt->virtio_console;
	b->virtio_rng = opt->virtio_rng;
}

/* One getopt_long() result of `run`: 0, or -1 after a message. */
static int run_option(int c, struct run_options *opt)
{
	char *comma;

	switch (c) {
	case 'k':
		opt->kernel = optarg;
		break;
	case 'm':
		if (parse_size(optarg, &opt->mem_size) || !opt->mem_size) {
			fprintf(stderr, "vsnixctl: bad --mem '%s'\n", optarg);
			return -1;
		}
		/* A bare number is MiB, as in solo5-hvt --mem. */
		if (strspn(optarg, "0123456789") == strlen(optarg))
			opt->mem_size <<= 20;
		break;
	case 'c':
		opt->cmdline = optarg;
		break;
	case 'i':
		opt->initrd = optarg;
		break;
	case 'b':
		if (opt->nr_block == MAX_BLOCK ||
		    parse_attach(optarg, &opt->block[opt->nr_block], false)) {
			fprintf(stderr, "vsnixctl: bad --block '%s' (NAME=PATH, at most %d)\n",
				optarg, MAX_BLOCK);
			return -1;
		}
		opt->nr_block++;
		break;
	case 'n':
		if (!strncmp(optarg, "tap=", 4)) {
			if (opt->nr_vnet == MAX_VNET ||
			    parse_vnet(optarg, &opt->vnet[opt->nr_vnet])) {
				fprintf(stderr, "vsnixctl: bad --net '%s' (tap=NAME[,mac=M][,queues=Q], at most %d)\n",
					optarg, MAX_VNET);
				return -1;
			}
			opt->nr_vnet++;
			break;
		}
		if (opt->nr_net == MAX_NET ||
		    parse_attach(optarg, &opt->net[opt->nr_net], true)) {
			fprintf(stderr, "vsnixctl: bad --net '%s' (NAME=TAP[,MAC], at most %d)\n",
				optarg, MAX_NET);
			return -1;
		}
		opt->nr_net++;
		break;
	case 'S':
		if (opt->nr_sector_args == MAX_BLOCK) {
			fprintf(stderr, "vsnixctl: too many --block-sector-size\n");
			return -1;
		}
		opt->sector_arg[opt->nr_sector_args++] = optarg;
		break;
	case 'M':
		if (opt->nr_modules == MAX_MODULES) {
			fprintf(stderr, "vsnixctl: at most %d modules\n", MAX_MODULES);
			return -1;
		}
		comma = strchr(optarg, ',');
		if (comma)
			*comma = '\0';
		opt->module[opt->nr_modules].path = optarg;
		opt->module[opt->nr_modules].args = comma ? comma + 1 : NULL;
		opt->nr_modules++;
		break;
	case 'v':
		opt->verbose = true;
		break;
	case 'X':
		opt->no_x2apic = true;
		break;
	case 'T':
		opt->testdev = true;
		break;
	case 'C': {
		char *end;
		unsigned long n = strtoul(optarg, &end, 10);

		if (*end || !n || n > VSNIX_MAX_CPUS) {
			fprintf(stderr, "vsnixctl: bad --cpus '%s' (1..%d)\n", optarg,
				VSNIX_MAX_CPUS);
			return -1;
		}
		opt->nr_cpus = n;
		break;
	}
	case OPT_STDIN:
		opt->stdin_fwd = true;
		break;
	case OPT_RNG:
		opt->virtio_rng = true;
		break;
	case OPT_BOOT:
		if (!strcmp(optarg, "auto"))
			opt->boot = BOOT_AUTO;
		else if (!strcmp(optarg, "bzimage"))
			opt->boot = BOOT_BZIMAGE;
		else if (!strcmp(optarg, "pvh"))
			opt->boot = BOOT_PVH;
		else {
			fprintf(stderr, "vsnixctl: bad --boot '%s' (auto, bzimage or pvh)\n",
				optarg);
			return -1;
		}
		break;
	case OPT_NO_CACHE:
		opt->no_cache = true;
		break;
	case OPT_DUMPCORE:
		opt->dumpcore_dir = optarg;
		return dumpcore_check_dir(optarg);
	case 'D':
		return parse_disk(optarg, opt);
	case 'O':
		if (strcmp(optarg, "virtio") && strcmp(optarg, "serial")) {
			fprintf(stderr, "vsnixctl: bad --console '%s' (virtio or serial)\n",
				optarg);
			return -1;
		}
		opt->virtio_console = !strcmp(optarg, "virtio");
		break;
	case 'R':
		if (strcmp(optarg, "restart") && strcmp(optarg, "exit")) {
			fprintf(stderr, "vsnixctl: bad --on-reboot '%s' (restart or exit)\n",
				optarg);
			return -1;
		}
		opt->on_reboot_restart = !strcmp(optarg, "restart");
		break;
	case 'h':
		command_help(stdout, "run");
		exit(0);
	default:
		command_help(stderr, "run");
		return -1;
	}
	return 0;
}

static int parse_run(int argc, char **argv, struct run_options *opt)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "block", required_argument, NULL, 'b' },
		{ "net", required_argument, NULL, 'n' },
		{ "block-sector-size", required_argument, NULL, 'S' },
		{ "module", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "stdin", no_argument, NULL, OPT_STDIN },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "boot", required_argument, NULL, OPT_BOOT },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "dumpcore", required_argument, NULL, OPT_DUMPCORE },
		{ "disk", required_argument, NULL, 'D' },
		{ "console", required_argument, NULL, 'O' },
		{ "on-reboot", required_argument, NULL, 'R' },
		{ "no-x2apic", no_argument, NULL, 'X' },
		{ "testdev", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	opt->mem_size = DEFAULT_MEM;
	while ((c = getopt_long(argc, argv, "k:m:c:i:b:n:S:M:vhC:D:O:R:XT", longopts, NULL)) != -1)
		if (run_option(c, opt))
			return -1;
	if (optind != argc) {
		fprintf(stderr, "vsnixctl: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!opt->kernel) {
		fprintf(stderr, "vsnixctl: --kernel FILE is required\n");
		command_help(stderr, "run");
		return -1;
	}
	return apply_sector_sizes(opt);
}

/*
 * An ELF: hvt (the Solo5 note) or PVH (the Xen PVH note). 1 when it was
 * one of them (*ret: 0 or -1 after a message), 0 to look further.
 */
static int prepare_elf(struct vm *vm, struct run_options *opt, int fd, int *ret)
{
	struct vx_elf_image img;
	uint64_t entry;
	int kind = 1, pvh;

	*ret = -1;
	if (report(vx_elf_open(&img, fd, opt->kernel)))
		return 1;
	if (hvt_is_hvt_elf(&img) && (opt->nr_disk || opt->virtio_console ||
				     opt->virtio_rng)) {
		fprintf(stderr, "vsnixctl: --disk/--console virtio/--rng need a Linux guest; use --block for hvt\n");
	} else if (hvt_is_hvt_elf(&img) && opt->nr_vnet) {
		fprintf(stderr, "vsnixctl: --net tap=... is virtio-net for Linux guests; an hvt unikernel takes --net NAME=TAP[,MAC]\n");
	} else if (hvt_is_hvt_elf(&img)) {
		if (opt->nr_modules)
			fprintf(stderr, "vsnixctl: --module is for multiboot kernels; ignored\n");
		*ret = vm_create(vm) ? -1 : hvt_setup(vm, &img, opt);
	} else {
		pvh = vx_pvh_entry(&img, &entry);
		if (pvh > 0)
			*ret = vm_create(vm) ? -1 : linux_setup(vm, fd, &img, opt);
		else if (report(pvh) == 0)
			kind = 0;
	}
	vx_elf_close(&img);
	return kind;
}

/*
 * A bzImage: by PVH from its unpacked payload (--boot auto, pvh), else by
 * its own 64-bit entry. auto falls back, saying why, when the payload
 * cannot be unpacked or its ELF has no PVH entry note.
 */
static int prepare_bzimage(struct vm *vm, struct run_options *opt, int fd)
{
	char why[512], label[PATH_MAX + 32];
	struct vx_elf_image img;
	int efd = -1, pvh = -1, ret = -1;
	uint64_t entry;

	if (opt->boot != BOOT_BZIMAGE)
		efd = bzimage_unpack(fd, opt->kernel, !opt->no_cache, why, sizeof(why));
	if (efd >= 0) {
		snprintf(label, sizeof(label), "%s (its ELF payload)", opt->kernel);
		pvh = vx_elf_open(&img, efd, label);
		if (!pvh) {
			pvh = vx_pvh_entry(&img, &entry);
			if (pvh > 0)
				ret = vm_create(vm) ? -1 : linux_setup(vm, efd, &img, opt);
			vx_elf_close(&img);
		}
		if (pvh <= 0)
			snprintf(why, sizeof(why), "%s", pvh ? vx_errmsg() :
				 "its ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY; a kernel without CONFIG_PVH)");
		close(efd);
		if (pvh > 0)
			return ret;
	}
	if (opt->boot == BOOT_PVH) {
		fprintf(stderr, "vsnixctl: --boot pvh: %s: %s\n", opt->kernel, why);
		return -1;
	}
	if (opt->boot == BOOT_AUTO)
		fprintf(stderr, "vsnixctl: note: %s: no PVH boot (%s); booting it as a bzImage\n",
			opt->kernel, why);
	return vm_create(vm) ? -1 : linux_setup(vm, fd, NULL, opt);
}

/* Detects the image kind, builds the VM and sets up the vCPU. */
static int prepare(struct vm *vm, struct run_options *opt)
{
	uint8_t head[8192];
	ssize_t len;
	long mb;
	int fd, ret = -1;

	fd = open(opt->kernel, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vsnixctl: cannot open %s: %s\n", opt->kernel,
			strerror(errno));
		return -1;
	}
	len = pread(fd, head, sizeof(head), 0);
	if (len < 0)
		len = 0;

	/* An ELF with the Solo5 ABI note is hvt, whatever else it holds. */
	if (vx_elf_is_elf(head, len) && prepare_elf(vm, opt, fd, &ret))
		goto out;
	if (opt->initrd && !vx_linux_is_bzimage(head, len)) {
		fprintf(stderr, "vsnixctl: --initrd is for Linux kernels; %s is not a bzImage (no \"HdrS\" setup header) nor a PVH ELF\n",
			opt->kernel);
		goto out;
	}
	if (vx_linux_is_bzimage(head, len)) {
		ret = prepare_bzimage(vm, opt, fd);
		goto out;
	}
	mb = vx_multiboot_find_header(head, len);
	if (mb >= 0) {
		if (opt->nr_block || opt->nr_net || opt->nr_vnet) {
			fprintf(stderr, "vsnixctl: --block/--net need an hvt unikernel or a PC guest; %s is multiboot\n",
				opt->kernel);
			goto out;
		}
		if (opt->nr_disk || opt->virtio_console || opt->virtio_rng) {
			fprintf(stderr, "vsnixctl: --disk/--console virtio/--rng need a Linux guest; %s is multiboot\n",
				opt->kernel);
			goto out;
		}
		ret = vm_create(vm) ? -1 : multiboot_setup(vm, fd, opt, mb);
		goto out;
	}
	fprintf(stderr, "vsnixctl: %s is not a kernel vsnix knows: expected a Solo5 hvt unikernel (ELF with the Solo5 ABI note), a PVH ELF (Xen PVH entry note), a Linux bzImage (\"HdrS\" setup header at 0x202) or a multiboot kernel (header in the first 8 KiB)\n",
		opt->kernel);
out:
	close(fd);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct run_options opt = { .boot = BOOT_AUTO };
	struct vm vm = { .sys_fd = -1 };
	sigset_t stop;
	int code, reset;

	if (parse_run(argc, argv, &opt))
		return EXIT_SETUP_ERROR;
	/*
	 * Blocked in every thread from here on (the console copier and the
	 * vCPU threads inherit the mask); vm_run() reads them from a signalfd.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	/* --on-reboot restart: a guest reset builds the VM again, anew. */
	do {
		vm.verbose = opt.verbose;
		vm.testdev = opt.testdev;
		if (prepare(&vm, &opt) ||
		    console_input_start(&vm, opt.stdin_fwd)) {
			vm_destroy(&vm);
			vnet_release();
			return EXIT_SETUP_ERROR;
		}
		/* Console bytes come from the kernel: flush ours first. */
		fflush(stdout);
		code = vm_run(&vm, &stop);
		/*
		 * A stop signal can land in the same poll as the reset: the
		 * signal's code wins, and the VM is not built again.
		 */
		reset = vm.reset && code == EXIT_REBOOT;
		dumpcore(&vm, opt.dumpcore_dir, code);
		/* Every path out of the run puts the terminal back here. */
		console_input_stop(&vm);
		vm_destroy(&vm);
		vnet_release();
	} while (reset && opt.on_reboot_restart);
	return code;
}

