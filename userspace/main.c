// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: command-line front end of vSnix. Each subcommand is one entry
 * of commands[]; `vsnixctl help` and `vsnixctl CMD --help` are made from it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vsnixctl.h"

static int cmd_help(int argc, char **argv);

#define VSNIXD_NOTE "  asks vsnixd ($VSNIXD_SOCKET, default /run/vsnix/vsnixd.sock)\n"

#define JSON_NOTE "  --json               the daemon's reply as one JSON object\n"

/* The commands that are requests to vsnixd (cmd_vsnixd.c, vsnixctl(1)). */
#define VSNIXD_COMMANDS							\
	{ .name = "list", .handler = cmd_list,				\
	  .summary = "vsnixd: the VMs, their state and exit codes",	\
	  .usage = "list [--json]", .help = JSON_NOTE VSNIXD_NOTE },	\
	{ .name = "create", .handler = cmd_create,			\
	  .summary = "vsnixd: a VM from a loaded pool's entry",		\
	  .usage = "create [--json] [--autostart|--no-autostart] POOL VM [NAME]", \
	  .help = "  NAME: the new VM's name (default: VM)\n"		\
		  "  --autostart          vsnixd starts it at its start and its pool's load\n" \
		  "                       (default: the entry's \"autostart\")\n" \
		  JSON_NOTE VSNIXD_NOTE },				\
	{ .name = "start", .handler = cmd_start,			\
	  .summary = "vsnixd: start a VM",				\
	  .usage = "start [--json] NAME", .help = JSON_NOTE VSNIXD_NOTE }, \
	{ .name = "stop", .handler = cmd_stop,				\
	  .summary = "vsnixd: stop a VM (SIGTERM, SIGKILL after 5 s)",	\
	  .usage = "stop [--json] [--no-wait] NAME",			\
	  .help = "  --no-wait            do not wait for the VM's end\n" \
		  JSON_NOTE VSNIXD_NOTE },				\
	{ .name = "kill", .handler = cmd_kill,				\
	  .summary = "vsnixd: kill a VM at once (SIGKILL)",		\
	  .usage = "kill [--json] [--no-wait] NAME",			\
	  .help = "  --no-wait            do not wait for the VM's end\n" \
		  JSON_NOTE VSNIXD_NOTE },				\
	{ .name = "restart", .handler = cmd_restart,			\
	  .summary = "vsnixd: stop a VM (if it runs) and start it again", \
	  .usage = "restart [--json] NAME", .help = JSON_NOTE VSNIXD_NOTE }, \
	{ .name = "status", .handler = cmd_status,			\
	  .summary = "vsnixd: a VM's state and last runs; exit 0 if it runs, 3 if not", \
	  .usage = "status [--json] NAME", .help = JSON_NOTE VSNIXD_NOTE }, \
	{ .name = "show", .handler = cmd_show,				\
	  .summary = "vsnixd: a VM's state and config (JSON)",		\
	  .usage = "show [--json] NAME", .help = JSON_NOTE VSNIXD_NOTE }, \
	{ .name = "delete", .handler = cmd_delete,			\
	  .summary = "vsnixd: forget a VM that does not run",		\
	  .usage = "delete [--json] NAME", .help = JSON_NOTE VSNIXD_NOTE }, \
	{ .name = "console", .handler = cmd_console,			\
	  .summary = "vsnixd: a VM's console: attach to it, or its last 64 KiB", \
	  .usage = "console [--follow] [--attach] NAME",		\
	  .help = "  From a terminal, a running VM's console is attached: its last\n" \
		  "  64 KiB, its live output and your keys to it; Ctrl-] q detaches\n" \
		  "  (the VM runs on), Ctrl-] Ctrl-] sends a Ctrl-]. Otherwise the\n" \
		  "  last 64 KiB.\n"					\
		  "  --follow             then the live output, until the VM ends\n" \
		  "  --attach             attach even when stdin is no terminal\n" \
		  "                       (its end detaches)\n"	\
		  VSNIXD_NOTE },					\
	{ .name = "logs", .handler = cmd_logs,				\
	  .summary = "vsnixd: a VM's console history (the last 64 KiB)", \
	  .usage = "logs [--json | --follow] NAME",			\
	  .help = "  --follow             then the live output, until the VM ends\n" \
		  "  --json               { \"name\", \"running\", \"log\" }\n" \
		  VSNIXD_NOTE },					\
	{ .name = "autostart", .handler = cmd_autostart,		\
	  .summary = "vsnixd: whether vsnixd starts a VM by itself",	\
	  .usage = "autostart [--json] NAME on|off", .help = JSON_NOTE VSNIXD_NOTE }, \
	{ .name = "audit", .handler = cmd_audit,			\
	  .summary = "vsnixd: the audit log",				\
	  .usage = "audit [--json] [--vm NAME] [--since UNIXTIME]",	\
	  .help = JSON_NOTE VSNIXD_NOTE },

static const struct command commands[] = {
	{
		.name = "run",
		.handler = cmd_run,
		.summary = "boot a Solo5 hvt unikernel, a multiboot kernel or Linux",
		.usage = "run --kernel FILE [options]",
		.help =
		"  --kernel FILE        Solo5 hvt unikernel (ELF), multiboot v1 kernel,\n"
		"                       Linux bzImage or PVH ELF (found by its contents)\n"
		"  --mem SIZE           guest memory, e.g. 64M (default 128M)\n"
		"  --cmdline STRING     command line given to the guest\n"
		"  --initrd FILE        Linux/PVH: the initial ramdisk\n"
		"  --boot auto|bzimage|pvh\n"
		"                       Linux bzImage: boot the ELF kernel of its payload,\n"
		"                       unpacked by vsnixctl, by its PVH entry (no\n"
		"                       decompressor in the guest), or the bzImage itself;\n"
		"                       auto (the default): PVH when the ELF has the note\n"
		"  --no-cache           --boot auto/pvh: unpack the payload again instead of\n"
		"                       using or filling the cache ($VSNIX_CACHE_DIR, else\n"
		"                       ~/.cache/vsnix/kernels)\n"
		"  --block NAME=PATH    hvt: attach file/device PATH as block device NAME\n"
		"  --block-sector-size NAME=N\n"
		"                       hvt: sector size of block device NAME (default 512)\n"
		"  --net NAME=TAP[,MAC] hvt: attach tap interface TAP as network device NAME\n"
		"  --net tap=NAME[,mac=M][,queues=Q]\n"
		"                       PC guests: virtio-net on tap NAME (made if missing),\n"
		"                       Q queue pairs (default: one per vCPU)\n"
		"  --module FILE[,ARGS] multiboot: load FILE as a boot module\n"
		"  --cpus N             multiboot, Linux: N vCPUs; vCPU 0 boots, the others wait\n"
		"                       for INIT/SIPI (in-kernel LAPIC)\n"
		"  --disk PATH[,ro][,serial=S]\n"
		"                       Linux: a virtio-blk disk on file/device PATH (repeatable)\n"
		"  --console virtio|serial\n"
		"                       Linux: the console on hvc0 (virtio-console) or ttyS0\n"
		"  --rng                Linux: a virtio-rng function (/dev/hwrng)\n"
		"  --on-reboot restart|exit\n"
		"                       a guest reset (ACPI reset register, keyboard\n"
		"                       controller) builds the VM again, or ends the run\n"
		"                       with exit code 122 (default: exit)\n"
		"  --no-x2apic          multiboot: CPUID offers no x2APIC (an xAPIC-only CPU)\n"
		"  --testdev            multiboot: QEMU pc-testdev's IRQ lines, a byte OUT to\n"
		"                       port 0x2000 + n drives GSI n (kvm-unit-tests)\n"
		"  --dumpcore DIR       write DIR/core.vsnix.PID, an ELF core (registers and\n"
		"                       RAM), when the guest aborts (hvt status 255) or\n"
		"                       stops on a VM error (exit code 121)\n"
		"  --verbose            report the exit and stray I/O on stderr\n"
		"  --stdin              forward stdin to the guest's console even when it\n"
		"                       is not a terminal (a terminal always is, in raw\n"
		"                       mode: Ctrl-] q stops the VM, Ctrl-] Ctrl-] sends\n"
		"                       Ctrl-])\n"
		"exit code: the guest's exit status (ACPI power off: 0); 120 setup\n"
		"           error, 121 VM error, 122 guest reset, 123 stopped from the\n"
		"           console, 128+N stopped by signal N\n",
	},
	{
		.name = "net",
		.handler = cmd_net,
		.summary = "eBPF network steering: host interface to VM taps, tap queues",
		.usage = "net steer|rss ...",
		.help =
		"  steer attach DEV     load the steering program on DEV's TC ingress;\n"
		"                       its maps are pinned in /sys/fs/bpf/vsnix\n"
		"  steer detach DEV     take it off DEV (the maps stay)\n"
		"  steer add MAC TAP [IPV4]\n"
		"                       frames for MAC (or IPV4) go to tap TAP\n"
		"  steer del MAC        remove MAC's entry\n"
		"  steer show           the entries and their counters\n"
		"  rss attach TAP N     spread the flows of multiqueue tap TAP over N\n"
		"                       queues (TUNSETSTEERINGEBPF, Toeplitz hash)\n",
	},
	{
		.name = "caps",
		.handler = cmd_caps,
		.summary = "show what /dev/vsnix supports (VSNIX_CAP_*)",
		.usage = "caps",
		.help = "  prints one line per capability: its number, name and value\n",
	},
	{
		.name = "top",
		.handler = cmd_top,
		.summary = "live table of the VMs and vCPUs: exit rates, CPU, I/O",
		.usage = "top [--once] [--json] [--interval S] [--vm ID]",
		.help =
		"  --once               print one table after one interval, then exit\n"
		"  --json               one JSON object per refresh (totals and rates)\n"
		"  --interval S         seconds between refreshes (default 1)\n"
		"  --vm ID              only this VM\n"
		"  VMs of other processes show when they have your uid (any, as root)\n",
	},
	{
		.name = "stats",
		.handler = cmd_stats,
		.summary = "print every counter of one VM (by id or name)",
		.usage = "stats VM",
		.help = "  VM: the id (`vsnixctl top`) or the name of a running VM\n",
	},
	{
		.name = "pool",
		.handler = cmd_pool,
		.summary = "create, load, unload, list and show VM pools",
		.usage = "pool [--dir DIR] [--json] create DESC.json | load NAME MNT |\n"
			 "       unload MNT | list | show MNT",
		.help =
		"  --dir DIR            the pools' folder (default .): NAME.img + NAME.json\n"
		"  --json               load, show: each VM's config as JSON\n"
		"  create DESC.json     build DIR/NAME.img (mkfs.ext4 -d, no root needed)\n"
		"                       and DIR/NAME.json from a description\n"
		"  load NAME MNT        loop-mount DIR/NAME.img on MNT (read-only unless a\n"
		"                       disk writes to the pool), check and print its VMs\n"
		"  unload MNT           unmount (the loop device goes with it)\n"
		"  list                 the pools in DIR\n"
		"  show MNT             the VMs of the pool mounted on MNT\n"
		"  --daemon load NAME | unload NAME | list\n"
		"                       the same through vsnixd, on its --pools folder\n"
		"  Documentation/pools.rst describes the files\n",
	},
	VSNIXD_COMMANDS
	{
		.name = "help",
		.handler = cmd_help,
		.summary = "list the commands, or show one command's options",
		.usage = "help [COMMAND]",
		.help = "",
	},
};

#define NR_COMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void list_commands(FILE *out)
{
	unsigned int i;

	fprintf(out, "usage: vsnixctl COMMAND [options]\ncommands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "`vsnixctl help COMMAND` or `vsnixctl COMMAND --help` shows its options\n");
}

void command_help(FILE *out, const char *name)
{
	const struct command *c = find_command(name);

	if (!c) {
		list_commands(out);
		return;
	}
	fprintf(out, "usage: vsnixctl %s\n%s: %s\n%s", c->usage, c->name, c->summary,
		c->help);
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		list_commands(stdout);
		return 0;
	}
	if (!find_command(argv[1])) {
		fprintf(stderr, "vsnixctl: unknown command '%s'\n", argv[1]);
		list_commands(stderr);
		return EXIT_SETUP_ERROR;
	}
	command_help(stdout, argv[1]);
	return 0;
}

/* `CMD --help`, `CMD -h`: later ones are the command's getopt's. */
static bool wants_help(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		list_commands(stderr);
		return EXIT_SETUP_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		list_commands(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "vsnixctl: unknown command '%s' (`vsnixctl help` lists them)\n",
			argv[1]);
		return EXIT_SETUP_ERROR;
	}
	if (c->handler != cmd_help && wants_help(argc - 1, argv + 1)) {
		command_help(stdout, c->name);
		return 0;
	}
	return c->handler(argc - 1, argv + 1);
}
