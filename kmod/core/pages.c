// SPDX-License-Identifier: GPL-2.0
/*
 * Every page vsnix.ko takes from the page allocator, counted. kmemleak
 * tracks slab and vmalloc objects but not alloc_pages(), so a lost VMCS,
 * VMCB, TDP table or run page would go unseen: allocate such pages here.
 * The count is /sys/module/vsnix/parameters/pages (read-only); the rig
 * checks after each selftest that it is back to its value after insmod.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>
#include "vsnix.h"

static atomic_long_t vsnix_nr_pages = ATOMIC_LONG_INIT(0);

struct page *vsnix_alloc_pages(gfp_t gfp, int node, unsigned int order)
{
	struct page *page = alloc_pages_node(node, gfp, order);

	if (page)
		atomic_long_add(1L << order, &vsnix_nr_pages);
	return page;
}

void vsnix_free_pages(struct page *page, unsigned int order)
{
	if (!page)
		return;
	atomic_long_sub(1L << order, &vsnix_nr_pages);
	__free_pages(page, order);
}

void *vsnix_zalloc_page(gfp_t gfp)
{
	struct page *page = vsnix_alloc_pages(gfp | __GFP_ZERO, NUMA_NO_NODE, 0);

	return page ? page_address(page) : NULL;
}

void vsnix_free_page(void *addr)
{
	if (addr)
		vsnix_free_pages(virt_to_page(addr), 0);
}

static int vsnix_counter_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

/* Counted by the module: not for the administrator to set. */
static int vsnix_counter_param_set(const char *val,
				   const struct kernel_param *kp)
{
	return -EPERM;
}

const struct kernel_param_ops vsnix_counter_param_ops = {
	.get = vsnix_counter_param_get,
	.set = vsnix_counter_param_set,
};

module_param_cb(pages, &vsnix_counter_param_ops, &vsnix_nr_pages, 0444);
MODULE_PARM_DESC(pages, "pages held from the page allocator (read-only, for leak checks)");
