// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_GET/SET_DEVICE_STATE: a device's guest-visible state as a blob
 * (struct vsnix_device_state_header, then the type's own struct), and its
 * reset. The blob's layout is the device's (ops->state_version); the core
 * checks the header, the device checks every value it restores.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vsnix.h"
#include "internal.h"

static int devstate_args(struct vsnix_device_state *st, void __user *argp,
			 u32 allowed_flags)
{
	if (copy_from_user(st, argp, sizeof(*st)))
		return -EFAULT;
	if ((st->flags & ~allowed_flags) || st->pad ||
	    memchr_inv(st->reserved, 0, sizeof(st->reserved)))
		return -EINVAL;
	return 0;
}

/* The device, with a reference, if it has a state layout at all. */
static struct vsnix_io_device *devstate_get(struct vsnix_vm *vm, u32 id,
					    int *err)
{
	struct vsnix_io_device *dev = vsnix_io_get_id(vm, id);

	*err = -ENOENT;
	if (!dev)
		return NULL;
	if (!dev->ops->state_version ||
	    (dev->ops->state_size && (!dev->ops->save ||
				      !dev->ops->restore))) {
		vsnix_io_put_id(dev);
		*err = -EOPNOTSUPP;
		return NULL;
	}
	*err = 0;
	return dev;
}

long vsnix_vm_get_device_state(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_device_state_header *hdr;
	struct vsnix_device_state st;
	struct vsnix_io_device *dev;
	size_t need;
	int ret;

	ret = devstate_args(&st, argp, 0);
	if (ret)
		return ret;
	dev = devstate_get(vm, st.id, &ret);
	if (!dev)
		return ret;
	need = sizeof(*hdr) + dev->ops->state_size;
	if (st.size < need) {
		/* Says how much room it takes, as GET_CPUID does. */
		st.size = need;
		ret = copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : -E2BIG;
		goto out;
	}
	hdr = kzalloc(need, GFP_KERNEL);
	if (!hdr) {
		ret = -ENOMEM;
		goto out;
	}
	hdr->type = dev->ops->type;
	hdr->version = dev->ops->state_version;
	hdr->size = dev->ops->state_size;
	if (dev->ops->save)
		dev->ops->save(dev, hdr + 1);
	st.size = need;
	if (copy_to_user(u64_to_user_ptr(st.data), hdr, need) ||
	    copy_to_user(argp, &st, sizeof(st)))
		ret = -EFAULT;
	kfree(hdr);
out:
	vsnix_io_put_id(dev);
	return ret;
}

static int devstate_restore(struct vsnix_io_device *dev,
			    const struct vsnix_device_state *st)
{
	const struct vsnix_io_ops *ops = dev->ops;
	struct vsnix_device_state_header *hdr;
	size_t need = sizeof(*hdr) + ops->state_size;
	int ret;

	if (st->size != need) {
		pr_warn_ratelimited("SET_DEVICE_STATE: %u bytes, device %u takes %zu\n",
				    st->size, st->id, need);
		return -EINVAL;
	}
	hdr = memdup_user(u64_to_user_ptr(st->data), need);
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	if (hdr->type != ops->type || hdr->version != ops->state_version ||
	    hdr->size != ops->state_size || hdr->pad) {
		pr_warn_ratelimited("SET_DEVICE_STATE: blob of type %u version %u size %u; device %u is type %u version %u size %u\n",
				    hdr->type, hdr->version, hdr->size, st->id,
				    ops->type, ops->state_version,
				    ops->state_size);
		ret = -EINVAL;
	} else {
		ret = ops->restore ? ops->restore(dev, hdr + 1) : 0;
	}
	kfree(hdr);
	return ret;
}

long vsnix_vm_set_device_state(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_device_state st;
	struct vsnix_io_device *dev;
	int ret;

	ret = devstate_args(&st, argp, VSNIX_DEVICE_STATE_RESET);
	if (ret)
		return ret;
	if ((st.flags & VSNIX_DEVICE_STATE_RESET) && (st.size || st.data))
		return -EINVAL;
	dev = devstate_get(vm, st.id, &ret);
	if (!dev)
		return ret;
	if (!(st.flags & VSNIX_DEVICE_STATE_RESET))
		ret = devstate_restore(dev, &st);
	else if (dev->ops->reset)
		dev->ops->reset(dev);
	vsnix_io_put_id(dev);
	return ret;
}

/*
 * VSNIX_DEVICE_INPUT: console input for a device (ops->input). The bytes
 * are copied in first, so the device never waits on a user page fault.
 */
long vsnix_vm_device_input(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_device_input in;
	struct vsnix_io_device *dev;
	ssize_t ret;
	u8 *buf;

	if (copy_from_user(&in, argp, sizeof(in)))
		return -EFAULT;
	if (memchr_inv(in.reserved, 0, sizeof(in.reserved)) ||
	    in.len > VSNIX_DEVICE_INPUT_MAX)
		return -EINVAL;
	dev = vsnix_io_get_id(vm, in.id);
	if (!dev)
		return -ENOENT;
	if (!dev->ops->input) {
		pr_warn_ratelimited("DEVICE_INPUT: device %u (type %u) takes no input\n",
				    in.id, dev->ops->type);
		ret = -EINVAL;
		goto out;
	}
	ret = 0;
	if (!in.len)
		goto out;
	buf = memdup_user(u64_to_user_ptr(in.data), in.len);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		goto out;
	}
	ret = dev->ops->input(dev, buf, in.len);
	if (!ret)
		ret = -EAGAIN;
	kfree(buf);
out:
	vsnix_io_put_id(dev);
	return ret;
}
