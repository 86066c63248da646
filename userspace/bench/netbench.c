// SPDX-License-Identifier: GPL-2.0
/*
 * netbench: TCP throughput and request/response rate between a guest and
 * its host, a small static tool for the busybox guest of the network
 * benchmark (net-bench.sh, Documentation/benchmarks.rst).
 *
 *   netbench server PORT            on the host: one child per connection
 *   netbench client HOST PORT SECS  in the guest: tx, rx, rr for SECS each
 *
 * The client opens one connection per measurement and sends its kind:
 *   'S' the server reads until EOF (guest -> host stream),
 *   'G' the server writes until the client closes (host -> guest stream),
 *   'R' the server echoes each 1-byte request (TCP_NODELAY, one in flight).
 * The client times each with CLOCK_MONOTONIC and prints one line:
 *   netbench: tx_mbit=.. rx_mbit=.. rr_per_s=..
 * The server prints its own view (its clock) of S and R as a cross-check:
 *   netbench-server: S bytes=.. secs=.. mbit=..  /  R trans=.. secs=.. per_s=..
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(128 * 1024)

static char buf[CHUNK];

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int full_io(int fd, char *p, size_t n, int wr)
{
	while (n) {
		ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

static void nodelay(int s)
{
	int one = 1;

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* One connection on the server side; the child exits when it ends. */
static void serve(int c)
{
	struct timeval tmo = { .tv_sec = 30 };
	unsigned long long n = 0;
	double t0 = 0;
	char kind;
	ssize_t r;

	/* A guest killed mid-run must not leave a child blocked forever. */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	if (full_io(c, &kind, 1, 0))
		return;
	if (kind == 'G') {
		while (write(c, buf, CHUNK) > 0)
			;
		return;
	}
	if (kind == 'R')
		nodelay(c);
	t0 = now();
	while ((r = read(c, buf, kind == 'R' ? 1 : CHUNK)) > 0) {
		if (kind == 'R' && full_io(c, buf, 1, 1))
			break;
		n += kind == 'R' ? 1 : r;
	}
	t0 = now() - t0;
	if (kind == 'S')
		printf("netbench-server: S bytes=%llu secs=%.2f mbit=%.1f\n", n, t0,
		       n * 8 / t0 / 1e6);
	else
		printf("netbench-server: R trans=%llu secs=%.2f per_s=%.0f\n", n, t0,
		       n / t0);
	fflush(stdout);
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	signal(SIGPIPE, SIG_IGN);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 8)) {
		perror("netbench: listen");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(s);
			serve(c);
			_exit(0);
		}
		close(c);
	}
}

static int dial(const char *host, int port, char kind)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(s, (struct sockaddr *)&a, sizeof(a)) || full_io(s, &kind, 1, 1)) {
		perror("netbench: connect");
		exit(1);
	}
	return s;
}

/* Bytes per second of one stream (tx: this side writes) for secs. */
static double stream(const char *host, int port, double secs, int tx)
{
	int s = dial(host, port, tx ? 'S' : 'G');
	unsigned long long n = 0;
	double t0 = now(), t;
	ssize_t r;

	do {
		r = tx ? write(s, buf, CHUNK) : read(s, buf, CHUNK);
		if (r <= 0) {
			perror("netbench: tx/rx");
			exit(1);
		}
		n += r;
		t = now() - t0;
	} while (t < secs);
	close(s);
	return n / t;
}

static double rr(const char *host, int port, double secs)
{
	int s = dial(host, port, 'R');
	unsigned long long n = 0;
	double t0 = now(), t;
	char c = 'x';

	nodelay(s);
	do {
		if (full_io(s, &c, 1, 1) || full_io(s, &c, 1, 0)) {
			perror("netbench: request");
			exit(1);
		}
		n++;
		t = now() - t0;
	} while (t < secs);
	close(s);
	return n / t;
}

int main(int argc, char **argv)
{
	double tx, rx, r, secs;

	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc != 5 || strcmp(argv[1], "client")) {
		fprintf(stderr, "usage: netbench server PORT | client HOST PORT SECS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	secs = atof(argv[4]);
	tx = stream(argv[2], atoi(argv[3]), secs, 1);
	rx = stream(argv[2], atoi(argv[3]), secs, 0);
	r = rr(argv[2], atoi(argv[3]), secs);
	printf("netbench: tx_mbit=%.1f rx_mbit=%.1f rr_per_s=%.0f\n",
	       tx * 8 / 1e6, rx * 8 / 1e6, r);
	return 0;
}
