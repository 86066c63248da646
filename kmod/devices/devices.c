// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_CREATE_DEVICE: checks the parts of struct vsnix_device_config that
 * all types share, then hands the type's own config to its constructor.
 * Also the console file helpers that the UART and hvt devices share.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/major.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/string.h>
#include <linux/uio.h>
#include "devices.h"
#include "../core/compat.h"

bool vsnix_dev_all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

u32 vsnix_pio_value(const void *val, unsigned int len)
{
	switch (len) {
	case 1:
		return *(const u8 *)val;
	case 2:
		return get_unaligned_le16(val);
	default:
		return get_unaligned_le32(val);
	}
}

void vsnix_pio_fill(void *val, unsigned int len, u32 value)
{
	switch (len) {
	case 1:
		*(u8 *)val = value;
		break;
	case 2:
		put_unaligned_le16(value, val);
		break;
	default:
		put_unaligned_le32(value, val);
		break;
	}
}

bool vsnix_file_may_hold_files(struct file *file)
{
	return file->f_op->owner == THIS_MODULE ||
	       file_inode(file)->i_sb->s_magic == ANON_INODE_FS_MAGIC;
}

/* Memory devices (/dev/null, zero, full, kmsg) and terminals. */
static bool vsnix_console_chrdev_ok(dev_t rdev)
{
	unsigned int major = MAJOR(rdev);

	return major == MEM_MAJOR ||
	       (major >= PTY_MASTER_MAJOR && major <= TTYAUX_MAJOR) ||
	       (major >= UNIX98_PTY_MASTER_MAJOR &&
		major < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT);
}

/*
 * The kinds of console file (Documentation/api.rst): none of them can hold
 * another file, so the VM can never end up holding itself. Refused: vsnix's
 * own fds and anonymous-inode files (io_uring, eventfd, ...), AF_UNIX
 * sockets (SCM_RIGHTS in flight) and sockets other than TCP/UDP, other
 * character devices (binder carries fds), block devices and directories.
 */
static bool vsnix_console_kind_ok(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct socket *sock;

	if (vsnix_file_may_hold_files(file))
		return false;
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
	case S_IFIFO:
		return true;
	case S_IFCHR:
		return vsnix_console_chrdev_ok(inode->i_rdev);
	case S_IFSOCK:
		/* Not netlink & co: guest bytes must not become requests. */
		sock = sock_from_file(file);
		return sock && sock->ops && (sock->ops->family == PF_INET ||
					     sock->ops->family == PF_INET6);
	default:
		return false;
	}
}

struct file *vsnix_console_get(int fd, const char *who)
{
	struct file *file;

	if (fd == -1)
		return NULL;
	file = fget(fd);
	if (!file) {
		pr_warn_ratelimited("%s: console_fd %d is not an open file\n",
				    who, fd);
		return ERR_PTR(-EBADF);
	}
	if (!(file->f_mode & FMODE_WRITE)) {
		pr_warn_ratelimited("%s: console_fd %d is not open for writing\n",
				    who, fd);
		fput(file);
		return ERR_PTR(-EBADF);
	}
	if (!vsnix_console_kind_ok(file)) {
		pr_warn_ratelimited("%s: console_fd %d is not a regular file, pipe, terminal, memory device or IP socket\n",
				    who, fd);
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	/* vsnix_console_write's paths: kernel_write, vfs_iter_write. */
	if (!(file->f_mode & FMODE_CAN_WRITE) || !file->f_op->write_iter ||
	    (S_ISREG(file_inode(file)->i_mode) && file->f_op->write)) {
		pr_warn_ratelimited("%s: console_fd %d cannot be written from the kernel\n",
				    who, fd);
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file;
}

void vsnix_console_put(struct file *console)
{
	if (console)
		fput(console);
}

/*
 * One write(2) of buf. A regular file goes through kernel_write, which
 * takes the filesystem's freeze protection; other kinds have none, and go
 * through vfs_iter_write, which also serves files with both ->write and
 * ->write_iter (/dev/null) that kernel_write refuses.
 */
static ssize_t vsnix_console_write_once(struct file *console,
					const void *buf, size_t len)
{
	struct kvec kvec = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter iter;
	loff_t pos = console->f_pos;
	ssize_t done;

	if (S_ISREG(file_inode(console)->i_mode)) {
		done = kernel_write(console, buf, len, &pos);
	} else {
		iov_iter_kvec(&iter, ITER_SOURCE, &kvec, 1, len);
		done = vfs_iter_write(console, &iter,
				      (console->f_mode & FMODE_STREAM) ?
				      NULL : &pos, 0);
	}
	/* As write(2): a regular file is appended to, pipes ignore pos. */
	if (done > 0 && !(console->f_mode & FMODE_STREAM))
		console->f_pos = pos;
	return done;
}

void vsnix_console_write(struct vsnix_vm *vm, struct file *console,
			 const void *buf, size_t len)
{
	ssize_t done = -EINTR;

	/* Counted even without a console: the guest did produce it. */
	atomic64_add(len, &vm->console_bytes);
	if (!console)
		return;
	if (!mutex_lock_killable(&vm->console_lock)) {
		while (len) {
			done = vsnix_console_write_once(console, buf, len);
			if (done <= 0)
				break;
			buf += done;
			len -= done;
		}
		mutex_unlock(&vm->console_lock);
	}
	if (!len)
		return;
	/*
	 * A full non-blocking pipe, a pipe without reader, a full disk, a
	 * signal: the bytes are dropped and counted (VSNIX_GET_VM_STATUS);
	 * only a VM's first drop is logged.
	 */
	if (atomic64_add_return(len, &vm->console_dropped) == len)
		pr_info_ratelimited("console write failed (%zd): output dropped from now on is counted in VSNIX_GET_VM_STATUS, not logged\n",
				    done);
}

int vsnix_dev_register(struct vsnix_vm *vm, struct vsnix_io_device *io,
		       const char *who)
{
	u32 id;
	int ret = vsnix_io_register_id(vm, io, &id);

	if (!ret)
		return id;

	if (ret == -EEXIST)
		pr_warn_ratelimited("%s: ports 0x%llx-0x%llx overlap another device\n",
				    who, io->base, io->base + io->len - 1);
	else if (ret)
		pr_warn_ratelimited("%s: cannot register ports 0x%llx+%llu (%d)\n",
				    who, io->base, io->len, ret);
	return ret;
}

int vsnix_dev_register_extra(struct vsnix_vm *vm, struct vsnix_io_device *io,
			     unsigned int n, atomic_t *refs, const char *who)
{
	unsigned int i;
	int ret;

	for (i = 1; i < n; i++) {
		atomic_inc(refs);
		ret = vsnix_io_register(vm, &io[i]);
		if (ret) {
			atomic_dec(refs);
			pr_warn_ratelimited("%s: ports 0x%llx-0x%llx: %s (%d)\n",
					    who, io[i].base,
					    io[i].base + io[i].len - 1,
					    ret == -EEXIST ? "taken" : "refused",
					    ret);
			vsnix_dev_unregister_extra(vm, io, i);
			return ret;
		}
	}
	return 0;
}

/* Each range's destroy drops its ref; already removed ones are skipped. */
void vsnix_dev_unregister_extra(struct vsnix_vm *vm,
				struct vsnix_io_device *io, unsigned int n)
{
	unsigned int i;

	for (i = 1; i < n; i++)
		vsnix_io_unregister(vm, &io[i]);
}

/* The bytes of the union past the type's own config must be zero. */
static int vsnix_device_check_tail(const struct vsnix_device_config *cfg,
				   size_t used, const char *who)
{
	if (vsnix_dev_all_zero(cfg->raw + used, sizeof(cfg->raw) - used))
		return 0;
	pr_warn_ratelimited("%s: config bytes past its %zu-byte struct must be zero\n",
			    who, used);
	return -EINVAL;
}

/* The chipset's devices: no console (console_fd is ignored). */
static int vsnix_chipset_create(struct vsnix_vm *vm,
				const struct vsnix_device_config *cfg)
{
	int ret;

	switch (cfg->type) {
	case VSNIX_DEV_IOAPIC:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->ioapic), "ioapic");
		return ret ? ret : vsnix_ioapic_create(vm, &cfg->ioapic);
	case VSNIX_DEV_PIC:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->pic), "pic");
		return ret ? ret : vsnix_pic_create(vm, &cfg->pic);
	case VSNIX_DEV_PIT:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->pit), "pit");
		return ret ? ret : vsnix_pit_create(vm, &cfg->pit);
	case VSNIX_DEV_RTC:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->rtc), "rtc");
		return ret ? ret : vsnix_rtc_create(vm, &cfg->rtc);
	case VSNIX_DEV_PM_TIMER:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->pm_timer),
					      "pm timer");
		return ret ? ret : vsnix_pm_timer_create(vm, &cfg->pm_timer);
	case VSNIX_DEV_PCI_HOST:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->pci_host),
					      "pci host");
		return ret ? ret : vsnix_pci_host_create(vm, &cfg->pci_host);
	case VSNIX_DEV_VIRTIO_RNG:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->virtio_rng),
					      "virtio-rng");
		return ret ? ret : vsnix_virtio_rng_create(vm, &cfg->virtio_rng);
	case VSNIX_DEV_ACPI_PM:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->acpi_pm),
					      "acpi pm");
		return ret ? ret : vsnix_acpi_pm_create(vm, &cfg->acpi_pm);
	case VSNIX_DEV_VIRTIO_NET:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->virtio_net),
					      "virtio-net");
		return ret ? ret : vsnix_virtio_net_create(vm, &cfg->virtio_net);
	default:
		pr_warn_ratelimited("CREATE_DEVICE: unknown device type %u\n",
				    cfg->type);
		return -EINVAL;
	}
}

/* VSNIX_CAP_DEVICES: 1 << VSNIX_DEV_* for each type created here. */
u32 vsnix_device_types(void)
{
	u32 types = BIT(VSNIX_DEV_HVT) | BIT(VSNIX_DEV_UART16550) |
		    BIT(VSNIX_DEV_EXIT_PORT) | BIT(VSNIX_DEV_FW_CFG) |
		    BIT(VSNIX_DEV_HVT2) | BIT(VSNIX_DEV_IOAPIC) |
		    BIT(VSNIX_DEV_PIC) | BIT(VSNIX_DEV_PIT) |
		    BIT(VSNIX_DEV_RTC) | BIT(VSNIX_DEV_PM_TIMER) |
		    BIT(VSNIX_DEV_PCI_HOST) | BIT(VSNIX_DEV_VIRTIO_RNG) |
		    BIT(VSNIX_DEV_VIRTIO_BLK) | BIT(VSNIX_DEV_VIRTIO_CONSOLE) |
		    BIT(VSNIX_DEV_ACPI_PM) | BIT(VSNIX_DEV_VIRTIO_NET);

	return types;
}

int vsnix_device_create(struct vsnix_vm *vm,
			const struct vsnix_device_config *cfg)
{
	struct file *console;
	int ret;

	switch (cfg->type) {
	case VSNIX_DEV_HVT:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->hvt), "hvt");
		if (ret)
			return ret;
		console = vsnix_console_get(cfg->console_fd, "hvt");
		if (IS_ERR(console))
			return PTR_ERR(console);
		ret = vsnix_hvt_create(vm, &cfg->hvt, console);
		break;
	case VSNIX_DEV_HVT2:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->hvt2), "hvt2");
		if (ret)
			return ret;
		console = vsnix_console_get(cfg->console_fd, "hvt2");
		if (IS_ERR(console))
			return PTR_ERR(console);
		ret = vsnix_hvt2_create(vm, &cfg->hvt2, console);
		break;
	case VSNIX_DEV_UART16550:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->uart), "uart");
		if (ret)
			return ret;
		console = vsnix_console_get(cfg->console_fd, "uart");
		if (IS_ERR(console))
			return PTR_ERR(console);
		ret = vsnix_uart_create(vm, &cfg->uart, console);
		break;
	case VSNIX_DEV_VIRTIO_BLK:
		/* No output: console_fd is ignored. */
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->virtio_blk),
					      "virtio-blk");
		return ret ? ret : vsnix_virtio_blk_create(vm, &cfg->virtio_blk);
	case VSNIX_DEV_VIRTIO_CONSOLE:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->virtio_console),
					      "virtio-console");
		if (ret)
			return ret;
		console = vsnix_console_get(cfg->console_fd, "virtio-console");
		if (IS_ERR(console))
			return PTR_ERR(console);
		ret = vsnix_virtio_console_create(vm, &cfg->virtio_console,
						  console);
		break;
	case VSNIX_DEV_EXIT_PORT:
		/* No output: console_fd is ignored. */
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->exit_port),
					      "exit port");
		return ret ? ret : vsnix_exit_port_create(vm, &cfg->exit_port);
	case VSNIX_DEV_FW_CFG:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->fw_cfg),
					      "fw_cfg");
		return ret ? ret : vsnix_fw_cfg_create(vm, &cfg->fw_cfg);
	default:
		return vsnix_chipset_create(vm, cfg);
	}
	/* On success (the new id) the device owns the console reference. */
	if (ret < 0)
		vsnix_console_put(console);
	return ret;
}

