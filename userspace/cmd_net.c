// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl net: the network eBPF programs (net_bpf.c).
 *   net steer attach DEV | detach DEV | show
 *   net steer add MAC TAP [IPV4] | del MAC
 *   net rss attach TAP QUEUES
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "vsnixctl.h"

static int usage(void)
{
	command_help(stderr, "net");
	return EXIT_SETUP_ERROR;
}

static int steer(int argc, char **argv)
{
	const char *op = argc > 0 ? argv[0] : "";
	uint8_t mac[6];
	uint32_t ip = 0;

	if (!strcmp(op, "attach") && argc == 2)
		return steer_attach(argv[1]) ? EXIT_SETUP_ERROR : 0;
	if (!strcmp(op, "detach") && argc == 2)
		return steer_detach(argv[1]) ? EXIT_SETUP_ERROR : 0;
	if (!strcmp(op, "show") && argc == 1)
		return steer_show(stdout) ? EXIT_SETUP_ERROR : 0;
	if (!strcmp(op, "add") && (argc == 3 || argc == 4)) {
		if (parse_mac(argv[1], mac) ||
		    (argc == 4 && inet_pton(AF_INET, argv[3], &ip) != 1)) {
			fprintf(stderr, "vsnixctl: bad MAC or IPv4 address\n");
			return EXIT_SETUP_ERROR;
		}
		return steer_add(mac, argv[2], ip) ? EXIT_SETUP_ERROR : 0;
	}
	if (!strcmp(op, "del") && argc == 2) {
		if (parse_mac(argv[1], mac)) {
			fprintf(stderr, "vsnixctl: bad MAC %s\n", argv[1]);
			return EXIT_SETUP_ERROR;
		}
		if (steer_del(mac)) {
			fprintf(stderr, "vsnixctl: no steering entry for %s\n",
				argv[1]);
			return EXIT_SETUP_ERROR;
		}
		return 0;
	}
	return usage();
}

int cmd_net(int argc, char **argv)
{
	unsigned int queues;
	char tail;

	if (argc >= 2 && !strcmp(argv[1], "steer"))
		return steer(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "rss") && !strcmp(argv[2], "attach")) {
		if (sscanf(argv[4], "%u%c", &queues, &tail) != 1)
			return usage();
		return rss_attach(argv[3], queues) ? EXIT_SETUP_ERROR : 0;
	}
	return usage();
}
