// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_CREATE_DEVICE: checks the parts of struct vsnix_device_config that
 * all types share, then hands the type's own config to its constructor.
 * Also the console file helpers that the UART and hvt devices share.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/string.h>
#include <asm/unaligned.h>
#include "devices.h"

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
	return file;
}

void vsnix_console_put(struct file *console)
{
	if (console)
		fput(console);
}

void vsnix_console_write(struct vsnix_vm *vm, struct file *console,
			 const void *buf, size_t len)
{
	ssize_t done;

	/* Counted even without a console: the guest did produce it. */
	atomic64_add(len, &vm->console_bytes);
	if (!console)
		return;
	while (len) {
		loff_t pos = console->f_pos;

		done = kernel_write(console, buf, len, &pos);
		if (done <= 0) {
			pr_info_ratelimited("console write failed (%zd), %zu bytes dropped\n",
					    done, len);
			return;
		}
		/*
		 * Pipes and ttys ignore the position; a regular file is
		 * appended to, as write(2) would.
		 */
		console->f_pos = pos;
		buf += done;
		len -= done;
	}
}

int vsnix_dev_register(struct vsnix_vm *vm, struct vsnix_io_device *io,
		       const char *who)
{
	int ret = vsnix_io_register(vm, io);

	if (ret == -EEXIST)
		pr_warn_ratelimited("%s: ports 0x%llx-0x%llx overlap another device\n",
				    who, io->base, io->base + io->len - 1);
	else if (ret)
		pr_warn_ratelimited("%s: cannot register ports 0x%llx+%llu (%d)\n",
				    who, io->base, io->len, ret);
	return ret;
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
	case VSNIX_DEV_UART16550:
		ret = vsnix_device_check_tail(cfg, sizeof(cfg->uart), "uart");
		if (ret)
			return ret;
		console = vsnix_console_get(cfg->console_fd, "uart");
		if (IS_ERR(console))
			return PTR_ERR(console);
		ret = vsnix_uart_create(vm, &cfg->uart, console);
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
		pr_warn_ratelimited("CREATE_DEVICE: unknown device type %u\n",
				    cfg->type);
		return -EINVAL;
	}
	/* On success the device owns the console reference. */
	if (ret)
		vsnix_console_put(console);
	return ret;
}
