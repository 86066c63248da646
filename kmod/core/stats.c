// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics fds and the VM list (Documentation/observability.rst).
 *
 * A stats fd is self-describing: a header, an id string and descriptors
 * (name, type, unit) that are built once when the fd is opened, then the
 * values, refreshed on every read that covers them. A VM's values are
 * the sums of its vCPUs' counters plus VM and per-device counters;
 * nothing is summed on the hot path.
 *
 * VMs are listed on /dev/vsnix (VSNIX_LIST_VMS) by a numeric id; a tool
 * opens a stats fd by id (VSNIX_STATS_FD_BY_ID) when it runs as the VM's
 * owner (same effective uid) or has CAP_SYS_ADMIN. No debugfs or sysfs:
 * the rights are those of /dev/vsnix plus that check.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vsnix.h"
#include "internal.h"
#include "trace.h"

#define STATS_NAME_SIZE	48
#define STATS_DESC_SIZE	(sizeof(struct vsnix_stats_desc) + STATS_NAME_SIZE)
#define STATS_ID_SIZE	64
#define VCPU_STATS	(sizeof(struct vsnix_vcpu_stat) / sizeof(u64))
/* VM-level values after the vCPU sums: vcpus, mem_bytes, memory_changes */
#define VM_STATS	3
#define DEV_STATS	2	/* per device: accesses, bytes */
#define MAX_LIST	4096	/* VSNIX_LIST_VMS entries per call */

static DEFINE_MUTEX(vsnix_vms_lock);	/* the list, ids and names */
static LIST_HEAD(vsnix_vms);
static u32 vsnix_vm_next_id;

static const char *const exit_names[VSNIX_STAT_EXIT_NR] = {
	"other", "extint", "nmi", "intr_window", "nmi_window", "exception",
	"cpuid", "hlt", "io", "npf", "msr", "cr", "dr", "xsetbv", "invd",
	"shutdown", "ud",
};

static const char *const hvt_names[VSNIX_STAT_HVT_NR] = {
	"bad", "walltime", "puts", "poll", "block_write", "block_read",
	"net_write", "net_read", "halt",
};

static const char *const dev_names[VSNIX_NR_DEVICES] = {
	"hvt", "uart", "exit_port", "fw_cfg", "hvt", "dev", "ioapic", "pic",
	"pit", "rtc", "pm_timer", "acpi_pm", "pci_host", "virtio_rng",
	"virtio_blk", "virtio_console", "virtio_net",
};

/* The scalar fields of struct vsnix_vcpu_stat, in order. */
static const struct {
	const char *name;
	u32 flags;
	u32 count;		/* > 1: an array named by names[] */
	const char *const *names;
} vcpu_fields[] = {
	{ "exits" },
	{ "exits_", 0, VSNIX_STAT_EXIT_NR, exit_names },
	{ "user_exits" },
	{ "halts" },
	{ "halt_ns", VSNIX_STATS_UNIT_NS },
	{ "inj_irq" },
	{ "inj_nmi" },
	{ "inj_exception" },
	{ "hypercalls" },
	{ "hypercalls_", 0, VSNIX_STAT_HVT_NR, hvt_names },
	{ "pio_kernel" },
	{ "pio_user" },
	{ "mmio_kernel" },
	{ "mmio_user" },
	{ "io_bytes_kernel", VSNIX_STATS_UNIT_BYTES },
	{ "io_bytes_user", VSNIX_STATS_UNIT_BYTES },
	{ "ioeventfd" },
	{ "pv_eoi" },
};

struct stats_dev {
	u32 id;
	u64 last[DEV_STATS];	/* kept when the device goes away */
};

struct stats_file {
	struct vsnix_vm *vm;
	struct vsnix_vcpu *vcpu;	/* NULL: the VM's fd */
	struct mutex lock;		/* buf's values */
	u32 nr_devs, max_devs;
	struct stats_dev *devs;
	u32 data_offset;
	size_t size;
	u8 *buf;
};

/* ------------------------------------------------------------ VM list */

void vsnix_vm_register(struct vsnix_vm *vm)
{
	vm->owner_pid = task_tgid_nr(current);
	vm->owner_uid = current_euid();
	mutex_lock(&vsnix_vms_lock);
	vm->id = ++vsnix_vm_next_id;
	list_add_tail(&vm->list, &vsnix_vms);
	mutex_unlock(&vsnix_vms_lock);
	trace_vsnix_vm_create(vm->id, vm->owner_pid);
}

void vsnix_vm_unregister(struct vsnix_vm *vm)
{
	mutex_lock(&vsnix_vms_lock);
	list_del(&vm->list);
	mutex_unlock(&vsnix_vms_lock);
	trace_vsnix_vm_destroy(vm->id);
}

static bool vsnix_vm_visible(const struct vsnix_vm *vm)
{
	return uid_eq(current_euid(), vm->owner_uid) ||
	       capable(CAP_SYS_ADMIN);
}

static void vsnix_vm_fill_info(const struct vsnix_vm *vm,
			       struct vsnix_vm_info *info)
{
	lockdep_assert_held(&vsnix_vms_lock);
	memset(info, 0, sizeof(*info));
	info->id = vm->id;
	info->owner_pid = vm->owner_pid;
	info->owner_uid = from_kuid_munged(current_user_ns(), vm->owner_uid);
	info->nr_vcpus = atomic_read(&vm->nr_vcpus);
	info->flags = READ_ONCE(vm->exited) ? VSNIX_VM_INFO_EXITED : 0;
	info->mem_bytes = READ_ONCE(vm->mem_bytes);
	memcpy(info->name, vm->name, sizeof(info->name));
}

static long vsnix_list_vms(void __user *argp)
{
	struct vsnix_vm_list req;
	struct vsnix_vm_info *infos;
	struct vsnix_vm *vm;
	u32 n = 0, cap;
	long ret = 0;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved[0] || req.reserved[1])
		return -EINVAL;
	cap = min_t(u32, req.nr, MAX_LIST);
	infos = cap ? kvcalloc(cap, sizeof(*infos), GFP_KERNEL) : NULL;
	if (cap && !infos)
		return -ENOMEM;
	mutex_lock(&vsnix_vms_lock);
	list_for_each_entry(vm, &vsnix_vms, list) {
		if (!vsnix_vm_visible(vm))
			continue;
		if (n < cap)
			vsnix_vm_fill_info(vm, &infos[n]);
		n++;
	}
	mutex_unlock(&vsnix_vms_lock);
	if (n > req.nr)
		ret = -E2BIG;
	if (min(n, cap) && copy_to_user(u64_to_user_ptr(req.entries), infos,
					min(n, cap) * sizeof(*infos)))
		ret = -EFAULT;
	else if (put_user(n, &((struct vsnix_vm_list __user *)argp)->nr))
		ret = -EFAULT;
	kvfree(infos);
	return ret;
}

static long vsnix_set_vm_name(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_vm_name req;
	size_t len, i;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.reserved[0] || req.reserved[1])
		return -EINVAL;
	len = strnlen(req.name, sizeof(req.name));
	if (len == sizeof(req.name) ||
	    memchr_inv(req.name + len, 0, sizeof(req.name) - len))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (req.name[i] < 0x20 || req.name[i] > 0x7e)
			return -EINVAL;
	mutex_lock(&vsnix_vms_lock);
	memcpy(vm->name, req.name, sizeof(vm->name));
	mutex_unlock(&vsnix_vms_lock);
	return 0;
}

static long vsnix_get_vm_info(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_vm_info info;

	mutex_lock(&vsnix_vms_lock);
	vsnix_vm_fill_info(vm, &info);
	mutex_unlock(&vsnix_vms_lock);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/* --------------------------------------------------------- descriptors */

static void stats_desc(struct stats_file *sf, u32 i, u32 flags,
		       const char *prefix, const char *name)
{
	struct vsnix_stats_header *h = (void *)sf->buf;
	struct vsnix_stats_desc *d;

	d = (void *)(sf->buf + h->desc_offset + i * STATS_DESC_SIZE);
	d->flags = flags;
	d->count = 1;
	d->offset = i * sizeof(u64);
	snprintf(d->name, STATS_NAME_SIZE, "%s%s", prefix, name);
}

static u32 stats_vcpu_descs(struct stats_file *sf)
{
	u32 i = 0, f, k;

	for (f = 0; f < ARRAY_SIZE(vcpu_fields); f++) {
		if (!vcpu_fields[f].count) {
			stats_desc(sf, i++, vcpu_fields[f].flags, "",
				   vcpu_fields[f].name);
			continue;
		}
		for (k = 0; k < vcpu_fields[f].count; k++)
			stats_desc(sf, i++, vcpu_fields[f].flags,
				   vcpu_fields[f].name, vcpu_fields[f].names[k]);
	}
	return i;
}

static void stats_vm_descs(struct stats_file *sf, u32 i)
{
	char name[STATS_NAME_SIZE];
	u32 d;

	stats_desc(sf, i++, VSNIX_STATS_TYPE_INSTANT, "", "vcpus");
	stats_desc(sf, i++, VSNIX_STATS_TYPE_INSTANT | VSNIX_STATS_UNIT_BYTES,
		   "", "mem_bytes");
	stats_desc(sf, i++, 0, "", "memory_changes");
	for (d = 0; d < sf->nr_devs; d++) {
		snprintf(name, sizeof(name), "dev%u_", sf->devs[d].id);
		stats_desc(sf, i++, 0, name, "accesses");
		stats_desc(sf, i++, VSNIX_STATS_UNIT_BYTES, name, "bytes");
	}
}

static void stats_count_dev(struct vsnix_io_device *dev, void *arg)
{
	struct stats_file *sf = arg;

	sf->nr_devs++;
}

static void stats_list_dev(struct vsnix_io_device *dev, void *arg)
{
	struct stats_file *sf = arg;

	/* Devices added since stats_count_dev: left out. */
	if (sf->nr_devs < sf->max_devs)
		sf->devs[sf->nr_devs++].id = dev->id;
}

/* The devices at open time: the VM fd describes these. */
static int stats_snapshot_devs(struct stats_file *sf)
{
	vsnix_io_for_each(sf->vm, stats_count_dev, sf);
	sf->max_devs = sf->nr_devs;
	sf->nr_devs = 0;
	sf->devs = kcalloc(sf->max_devs ?: 1, sizeof(*sf->devs), GFP_KERNEL);
	if (!sf->devs)
		return -ENOMEM;
	vsnix_io_for_each(sf->vm, stats_list_dev, sf);
	return 0;
}

/* ------------------------------------------------------------- values */

static void stats_add_vcpu(u64 *data, const struct vsnix_vcpu *vcpu)
{
	const u64 *src = (const u64 *)&vcpu->stat;
	u32 i;

	for (i = 0; i < VCPU_STATS; i++)
		data[i] += READ_ONCE(src[i]);
}

static void stats_read_dev(struct vsnix_io_device *dev, void *arg)
{
	struct stats_file *sf = arg;
	u64 acc = 0, bytes = 0;
	u32 d;
	int cpu;

	for (d = 0; d < sf->nr_devs; d++)
		if (sf->devs[d].id == dev->id)
			break;
	if (d == sf->nr_devs || !dev->stat)
		return;
	for_each_possible_cpu(cpu) {
		const struct vsnix_io_dev_stat *s = per_cpu_ptr(dev->stat, cpu);

		acc += READ_ONCE(s->accesses);
		bytes += READ_ONCE(s->bytes);
	}
	sf->devs[d].last[0] = acc;
	sf->devs[d].last[1] = bytes;
}

static void stats_dev_values(struct stats_file *sf, u64 *data)
{
	u32 d;

	vsnix_io_for_each(sf->vm, stats_read_dev, sf);
	for (d = 0; d < sf->nr_devs; d++) {
		data[2 * d] = sf->devs[d].last[0];
		data[2 * d + 1] = sf->devs[d].last[1];
	}
}

static void stats_refresh(struct stats_file *sf)
{
	u64 *data = (u64 *)(sf->buf + sf->data_offset);
	struct vsnix_vm *vm = sf->vm;
	int i;

	lockdep_assert_held(&sf->lock);
	if (sf->vcpu) {
		memset(data, 0, VCPU_STATS * sizeof(u64));
		stats_add_vcpu(data, sf->vcpu);
		return;
	}
	memset(data, 0, (VCPU_STATS + VM_STATS) * sizeof(u64));
	for (i = 0; i < VSNIX_MAX_VCPUS; i++) {
		struct vsnix_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);

		if (vcpu)
			stats_add_vcpu(data, vcpu);
	}
	data[VCPU_STATS] = atomic_read(&vm->nr_vcpus);
	data[VCPU_STATS + 1] = READ_ONCE(vm->mem_bytes);
	data[VCPU_STATS + 2] = READ_ONCE(vm->memory_changes);
	stats_dev_values(sf, data + VCPU_STATS + VM_STATS);
}

static ssize_t vsnix_stats_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct stats_file *sf = file->private_data;
	ssize_t ret;

	mutex_lock(&sf->lock);
	if (*ppos + count > sf->data_offset && *ppos < sf->size)
		stats_refresh(sf);
	ret = simple_read_from_buffer(ubuf, count, ppos, sf->buf, sf->size);
	mutex_unlock(&sf->lock);
	return ret;
}

static void stats_free(struct stats_file *sf)
{
	vsnix_vm_put(sf->vm);
	kfree(sf->devs);
	kvfree(sf->buf);
	kfree(sf);
}

static int vsnix_stats_release(struct inode *inode, struct file *file)
{
	stats_free(file->private_data);
	return 0;
}

static const struct file_operations vsnix_stats_fops = {
	.owner = THIS_MODULE,
	.read = vsnix_stats_read,
	.release = vsnix_stats_release,
	.llseek = default_llseek,
};

/* Lays out header, id and descriptors; values come at each read. */
static int stats_build(struct stats_file *sf)
{
	struct vsnix_stats_header *h;
	u32 nr_desc = VCPU_STATS, desc_off;

	if (!sf->vcpu)
		nr_desc += VM_STATS + DEV_STATS * sf->nr_devs;
	desc_off = sizeof(*h) + STATS_ID_SIZE;
	sf->data_offset = desc_off + nr_desc * STATS_DESC_SIZE;
	sf->size = sf->data_offset + nr_desc * sizeof(u64);
	sf->buf = kvzalloc(sf->size, GFP_KERNEL_ACCOUNT);
	if (!sf->buf)
		return -ENOMEM;
	h = (void *)sf->buf;
	h->magic = VSNIX_STATS_MAGIC;
	h->version = VSNIX_STATS_VERSION;
	h->nr_desc = nr_desc;
	h->name_size = STATS_NAME_SIZE;
	h->id_offset = sizeof(*h);
	h->desc_offset = desc_off;
	h->desc_size = STATS_DESC_SIZE;
	h->data_offset = sf->data_offset;
	h->data_size = nr_desc * sizeof(u64);
	if (sf->vcpu)
		snprintf(sf->buf + h->id_offset, STATS_ID_SIZE, "vm%u/vcpu%u",
			 sf->vm->id, sf->vcpu->id);
	else
		snprintf(sf->buf + h->id_offset, STATS_ID_SIZE, "vm%u",
			 sf->vm->id);
	if (stats_vcpu_descs(sf) != VCPU_STATS)
		return -EINVAL;	/* the table and the struct disagree */
	if (!sf->vcpu)
		stats_vm_descs(sf, VCPU_STATS);
	return 0;
}

/* Takes over the caller's VM reference, also on failure. */
static long vsnix_stats_open(struct vsnix_vm *vm, struct vsnix_vcpu *vcpu)
{
	struct stats_file *sf;
	struct file *file;
	int fd, ret;

	BUILD_BUG_ON(sizeof(struct vsnix_vcpu_stat) % sizeof(u64));
	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf) {
		vsnix_vm_put(vm);
		return -ENOMEM;
	}
	sf->vm = vm;
	sf->vcpu = vcpu;
	mutex_init(&sf->lock);
	ret = vcpu ? 0 : stats_snapshot_devs(sf);
	if (!ret)
		ret = stats_build(sf);
	if (ret)
		goto err;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err;
	}
	file = anon_inode_getfile(vcpu ? "vsnix-vcpu-stats" : "vsnix-vm-stats",
				  &vsnix_stats_fops, sf, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto err;
	}
	file->f_mode |= FMODE_PREAD;
	fd_install(fd, file);
	return fd;
err:
	stats_free(sf);
	return ret;
}

long vsnix_stats_vcpu_fd(struct vsnix_vcpu *vcpu)
{
	vsnix_vm_get(vcpu->vm);
	return vsnix_stats_open(vcpu->vm, vcpu);
}

long vsnix_stats_vm_ioctl(struct vsnix_vm *vm, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case VSNIX_GET_STATS_FD:
		if (arg)
			return -EINVAL;
		vsnix_vm_get(vm);
		return vsnix_stats_open(vm, NULL);
	case VSNIX_SET_VM_NAME:
		return vsnix_set_vm_name(vm, (void __user *)arg);
	case VSNIX_GET_VM_INFO:
		return vsnix_get_vm_info(vm, (void __user *)arg);
	}
	return -ENOTTY;
}

static long vsnix_stats_fd_by_id(void __user *argp)
{
	struct vsnix_stats_fd_req req;
	struct vsnix_vcpu *vcpu = NULL;
	struct vsnix_vm *vm, *found = NULL;
	long ret = -ENOENT;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.pad || req.reserved[0] || req.reserved[1])
		return -EINVAL;
	mutex_lock(&vsnix_vms_lock);
	list_for_each_entry(vm, &vsnix_vms, list) {
		if (vm->id != req.vm_id)
			continue;
		if (!vsnix_vm_visible(vm))
			ret = -EPERM;
		else if (kref_get_unless_zero(&vm->ref))
			found = vm;
		break;
	}
	mutex_unlock(&vsnix_vms_lock);
	if (!found)
		return ret;
	if (req.vcpu != VSNIX_STATS_VM) {
		if (req.vcpu < VSNIX_MAX_VCPUS)
			vcpu = READ_ONCE(found->vcpus[req.vcpu]);
		if (!vcpu) {
			vsnix_vm_put(found);
			return -ENOENT;
		}
	}
	return vsnix_stats_open(found, vcpu);
}

long vsnix_stats_dev_ioctl(unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case VSNIX_LIST_VMS:
		return vsnix_list_vms((void __user *)arg);
	case VSNIX_STATS_FD_BY_ID:
		return vsnix_stats_fd_by_id((void __user *)arg);
	}
	return -ENOTTY;
}

/* ------------------------------------------------------- the hot path */

void vsnix_vcpu_exited(struct vsnix_vcpu *vcpu, u32 reason, u64 raw)
{
	vcpu->stat.exits++;
	vcpu->stat.exit_reason[reason]++;
	if (trace_vsnix_vcpu_exit_enabled()) {
		struct vsnix_vcpu_trace *t = &vcpu->trace;
		u64 ns = t->entry_ns && t->exit_ns > t->entry_ns ?
			 t->exit_ns - t->entry_ns : 0;

		t->entry_ns = 0;
		trace_vsnix_vcpu_exit(vcpu->vm->id, vcpu->id, reason, raw,
				      vcpu->rip, ns);
	}
}

/*
 * With IRQs off, right before the entry (tracing on only). The monotonic
 * fast clock, not local_clock(): the vCPU thread may have moved to another
 * CPU since its exit, and local_clock() is only monotonic per CPU.
 */
void vsnix_trace_entry(struct vsnix_vcpu *vcpu)
{
	struct vsnix_vcpu_trace *t = &vcpu->trace;
	u64 now = ktime_get_mono_fast_ns();

	trace_vsnix_vcpu_entry(vcpu->vm->id, vcpu->id, vcpu->rip,
			       t->exit_ns && now > t->exit_ns ?
			       now - t->exit_ns : 0);
	t->exit_ns = 0;
	t->entry_ns = ktime_get_mono_fast_ns();
}

int vsnix_io_dev_stat_alloc(struct vsnix_io_dev_stat __percpu **st)
{
	*st = alloc_percpu_gfp(struct vsnix_io_dev_stat, GFP_KERNEL_ACCOUNT);
	return *st ? 0 : -ENOMEM;
}
