/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM pools (Documentation/pools.rst): POOL.img (ext4) + POOL.json side by
 * side; inside the image vms.json, one <HASH>_vmcfg.cfg per VM and the
 * VM's kernel, initrd and disks under their hashed names. Parsed with
 * json-c, strictly: an unknown field, a wrong type or a missing file is an
 * error that names the file and the field.
 */
#ifndef VSNIX_POOL_H
#define VSNIX_POOL_H

#include <stdbool.h>
#include <stdint.h>

#define POOL_FORMAT		1	/* "format" of every pool file */
#define POOL_HASH_LEN		16	/* hex digits of SHA-256(name) kept */
#define POOL_NAME_MAX		63
#define POOL_MAX_VMS		64
#define POOL_MAX_DISKS		8
#define POOL_MAX_NICS		8
#define POOL_ERR_LEN		512

enum pool_vm_kind {
	POOL_VM_LINUX,
	POOL_VM_MULTIBOOT,
	POOL_VM_UNIKERNEL,
};

/* Where a writable disk's writes go. */
enum pool_writes {
	POOL_WRITES_OVERLAY,	/* a per-VM copy outside the pool, kept */
	POOL_WRITES_POOL,	/* the image file inside the pool (mounted rw) */
	POOL_WRITES_SCRATCH,	/* a per-VM copy made at each start, removed at the end */
};

struct pool_disk {
	char name[POOL_NAME_MAX + 1];
	char *file;		/* in the image: blocks/<HASH>.<name>.img */
	char *source;		/* pool create only: host file to copy */
	bool readonly;
	enum pool_writes writes;
};

struct pool_nic {
	char name[POOL_NAME_MAX + 1];
	char *tap;
	char *mac;		/* "52:54:00:12:34:56" or NULL */
};

struct pool_vm {
	char name[POOL_NAME_MAX + 1];
	char hash[POOL_HASH_LEN + 1];
	enum pool_vm_kind kind;
	char *kernel;		/* in the image, or the host source (create) */
	char *initrd;		/* NULL: none */
	char *cmdline;		/* NULL: empty */
	uint64_t memory_mib;
	unsigned int vcpus;
	bool autostart;
	struct pool_disk disks[POOL_MAX_DISKS];
	unsigned int nr_disks;
	struct pool_nic nics[POOL_MAX_NICS];
	unsigned int nr_nics;
};

struct pool {
	char name[POOL_NAME_MAX + 1];
	uint64_t size_mib;
	char *created;		/* POOL.json "created", ISO 8601 UTC */
	unsigned int nr_vms;
	struct pool_vm vms[POOL_MAX_VMS];
	char *mount_point;	/* set by pool_load / pool_read_mounted */
	bool read_write;
};

struct pool_err {
	char msg[POOL_ERR_LEN];
};

/* pool_json.c */
int pool_hash_name(const char *name, char hash[POOL_HASH_LEN + 1]);
const char *pool_kind_name(enum pool_vm_kind kind);
int pool_parse_desc(struct pool *p, const char *desc_file, struct pool_err *e);
int pool_parse_meta(struct pool *p, const char *json_file, struct pool_err *e);
int pool_parse_vms(struct pool *p, const char *root, struct pool_err *e);
int pool_parse_vmcfg(struct pool_vm *vm, const char *root, const char *cfg,
		     struct pool_err *e);
void pool_free(struct pool *p);
char *pool_vm_to_json(const struct pool_vm *vm);

/* pool_create.c */
int pool_create(const struct pool *p, const char *dir, const char *desc_dir,
		struct pool_err *e);

/* pool_load.c */
int pool_files(const char *dir, const char *name, char **img, char **json,
	       struct pool_err *e);
int pool_load(struct pool *p, const char *dir, const char *name,
	      const char *mnt, struct pool_err *e);
int pool_unload(const char *mnt, struct pool_err *e);
int pool_read_mounted(struct pool *p, const char *mnt, struct pool_err *e);

void pool_error(struct pool_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
