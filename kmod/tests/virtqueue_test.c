// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the split virtqueue's chain checks (virtio/virtqueue.c) over a
 * fake guest memory: a good chain and an indirect table are taken whole;
 * a loop, a buffer outside RAM, a length overflow, indirect in indirect,
 * indirect with NEXT, a bad indirect length, readable after writable and
 * an avail index jump break the queue and ask for a reset once; EVENT_IDX
 * suppresses interrupts until used_event is passed.
 */
/*
 * Guest memory accessors of this suite's own (pagewalk_test.c has the
 * real names): renamed before virtqueue.c and the core header see them.
 */
#define vsnix_guest_read	vq_test_guest_read
#define vsnix_guest_write	vq_test_guest_write
#define vsnix_guest_range_ok	vq_test_guest_range_ok
#define vsnix_guest_slot_range	vq_test_guest_slot_range
/* The tracepoints live in vsnix.ko: empty stubs here. */
#define VSNIX_NO_TRACE
#include "../virtio/virtqueue.c"	/* first: it defines pr_fmt */
#include <kunit/test.h>
#include <linux/slab.h>

#define MEM_SIZE	0x10000
#define RAM_END		(1ull << 40)	/* range_ok's idea of RAM */
#define QSZ		8
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define IND		0x4000
#define IND2		0x5000
#define BUF		0x8000

static u8 *mem;
static int resets, interrupts;

int vsnix_guest_read(struct vsnix_vm *vm, u64 gpa, void *buf, size_t len)
{
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

int vsnix_guest_write(struct vsnix_vm *vm, u64 gpa, const void *buf,
		      size_t len)
{
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(mem + gpa, buf, len);
	return 0;
}

bool vsnix_guest_range_ok(struct vsnix_vm *vm, u64 gpa, u64 len)
{
	return gpa < RAM_END && len <= RAM_END - gpa;
}

/* One slot, [0, RAM_END). */
bool vsnix_guest_slot_range(struct vsnix_vm *vm, u64 gpa, u64 len,
			    u64 *lo, u64 *hi)
{
	if (!vsnix_guest_range_ok(vm, gpa, len))
		return false;
	*lo = 0;
	*hi = RAM_END;
	return true;
}

void vsnix_virtio_needs_reset(struct vsnix_virtio_dev *vdev)
{
	resets++;
}

void vsnix_virtio_queue_interrupt(struct vsnix_virtqueue *vq)
{
	interrupts++;
}

static struct vsnix_virtqueue *vq_setup(struct kunit *test, u64 features)
{
	struct vsnix_virtio_dev *vdev = kunit_kzalloc(test, sizeof(*vdev),
						      GFP_KERNEL);
	struct vsnix_virtqueue *vq;

	KUNIT_ASSERT_NOT_NULL(test, vdev);
	mem = kunit_kzalloc(test, MEM_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	resets = 0;
	interrupts = 0;
	vdev->driver_features = features;
	vq = &vdev->vqs[0];
	vq->vdev = vdev;
	vq->size = QSZ;
	vq->enabled = true;
	vq->desc_gpa = DESC;
	vq->avail_gpa = AVAIL;
	vq->used_gpa = USED;
	return vq;
}

static void desc(u64 table, int i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct vq_desc d = { cpu_to_le64(addr), cpu_to_le32(len),
			     cpu_to_le16(flags), cpu_to_le16(next) };

	memcpy(mem + table + DESC_SIZE * i, &d, sizeof(d));
}

/* Offers head as the next avail entry. */
static void offer(u16 head)
{
	u16 idx = le16_to_cpu(*(__le16 *)(mem + AVAIL + AVAIL_IDX));

	*(__le16 *)(mem + AVAIL + AVAIL_RING(idx % QSZ)) = cpu_to_le16(head);
	*(__le16 *)(mem + AVAIL + AVAIL_IDX) = cpu_to_le16(idx + 1);
}

static struct vsnix_vq_chain chain;

static void vq_good_chain(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	desc(DESC, 2, BUF, 16, VRING_DESC_F_NEXT, 5);
	desc(DESC, 5, BUF + 16, 100, VRING_DESC_F_WRITE, 0);
	offer(2);
	KUNIT_EXPECT_EQ(test, 1, vsnix_vq_pop(vq, &chain));
	KUNIT_EXPECT_EQ(test, 2, chain.head);
	KUNIT_EXPECT_EQ(test, 2, chain.nr_segs);
	KUNIT_EXPECT_EQ(test, 16u, chain.out_len);
	KUNIT_EXPECT_EQ(test, 100u, chain.in_len);
	KUNIT_EXPECT_EQ(test, 0, vsnix_vq_pop(vq, &chain));
	KUNIT_EXPECT_EQ(test, 0, vsnix_vq_push(vq, 2, 7));
	KUNIT_EXPECT_EQ(test, 1, le16_to_cpu(*(__le16 *)(mem + USED + USED_IDX)));
	KUNIT_EXPECT_EQ(test, 7u, le32_to_cpu(*(__le32 *)(mem + USED + 8)));
	KUNIT_EXPECT_EQ(test, 0, resets);
}

/*
 * A disabled queue over rings with a new avail index: pop finds it empty,
 * so enable_kicks must say "nothing new" (else a server loops forever)
 * and neither call may write the rings.
 */
static void vq_disabled_queue(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	desc(DESC, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
	offer(0);
	*(__le16 *)(mem + USED + USED_FLAGS) = cpu_to_le16(0xabcd);
	vq->enabled = false;
	KUNIT_EXPECT_EQ(test, 0, vsnix_vq_pop(vq, &chain));
	vsnix_vq_disable_kicks(vq);
	KUNIT_EXPECT_FALSE(test, vsnix_vq_enable_kicks(vq));
	KUNIT_EXPECT_EQ(test, 0xabcd,
			le16_to_cpu(*(__le16 *)(mem + USED + USED_FLAGS)));
	KUNIT_EXPECT_EQ(test, 0, resets);
}

static void vq_good_indirect(struct kunit *test)
{
	struct vsnix_virtqueue *vq =
		vq_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));

	desc(IND, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	desc(IND, 1, BUF + 8, 8, VRING_DESC_F_WRITE, 0);
	desc(DESC, 0, IND, 2 * DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	KUNIT_EXPECT_EQ(test, 1, vsnix_vq_pop(vq, &chain));
	KUNIT_EXPECT_EQ(test, 2, chain.nr_segs);
	KUNIT_EXPECT_EQ(test, 8u, chain.in_len);
	KUNIT_EXPECT_EQ(test, 0, resets);
}

/* Offers head and expects pop to fail with err, once, queue broken. */
static void expect_broken(struct kunit *test, struct vsnix_virtqueue *vq,
			  int err)
{
	offer(0);
	KUNIT_EXPECT_EQ(test, err, vsnix_vq_pop(vq, &chain));
	KUNIT_EXPECT_TRUE(test, vq->broken);
	KUNIT_EXPECT_EQ(test, 1, resets);
	KUNIT_EXPECT_EQ(test, -EIO, vsnix_vq_pop(vq, &chain));
}

static void vq_loop(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	desc(DESC, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
	expect_broken(test, vq, -ELOOP);
}

static void vq_outside_ram(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	desc(DESC, 0, RAM_END - 4, 8, 0, 0);
	expect_broken(test, vq, -EFAULT);
}

static void vq_overflow(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	desc(DESC, 0, BUF, 0xffffffff, VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF, 2, 0, 0);
	expect_broken(test, vq, -EOVERFLOW);
}

static void vq_indirect_nested(struct kunit *test)
{
	struct vsnix_virtqueue *vq =
		vq_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));

	desc(IND2, 0, BUF, 8, 0, 0);
	desc(IND, 0, IND2, DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
	desc(DESC, 0, IND, DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
	expect_broken(test, vq, -EINVAL);
}

static void vq_indirect_next(struct kunit *test)
{
	struct vsnix_virtqueue *vq =
		vq_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));

	desc(IND, 0, BUF, 8, 0, 0);
	desc(DESC, 0, IND, DESC_SIZE,
	     VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	expect_broken(test, vq, -EINVAL);
}

static void vq_indirect_len(struct kunit *test)
{
	struct vsnix_virtqueue *vq =
		vq_setup(test, BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC));

	desc(DESC, 0, IND, 24, VRING_DESC_F_INDIRECT, 0);
	expect_broken(test, vq, -EINVAL);
}

static void vq_read_after_write(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	desc(DESC, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF + 8, 8, 0, 0);
	expect_broken(test, vq, -EINVAL);
}

static void vq_avail_jump(struct kunit *test)
{
	struct vsnix_virtqueue *vq = vq_setup(test, 0);

	*(__le16 *)(mem + AVAIL + AVAIL_IDX) = cpu_to_le16(QSZ + 1);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_vq_pop(vq, &chain));
	KUNIT_EXPECT_TRUE(test, vq->broken);
	KUNIT_EXPECT_EQ(test, 1, resets);
}

/* used_event 1: the first push signals (none yet), the second does not. */
static void vq_event_idx_suppress(struct kunit *test)
{
	struct vsnix_virtqueue *vq =
		vq_setup(test, BIT_ULL(VIRTIO_RING_F_EVENT_IDX));

	*(__le16 *)(mem + AVAIL + AVAIL_RING(QSZ)) = cpu_to_le16(1);
	vsnix_vq_push(vq, 0, 0);
	vsnix_vq_notify(vq);
	KUNIT_EXPECT_EQ(test, 1, interrupts);
	vsnix_vq_push(vq, 0, 0);
	vsnix_vq_notify(vq);
	KUNIT_EXPECT_EQ(test, 2, interrupts);	/* used 1 -> 2 passes 1 */
	vsnix_vq_push(vq, 0, 0);
	vsnix_vq_notify(vq);
	KUNIT_EXPECT_EQ(test, 2, interrupts);	/* 2 -> 3: not asked */
	/* avail_event: enable_kicks publishes the next entry it wants. */
	vq->last_avail_idx = 5;
	vsnix_vq_enable_kicks(vq);
	KUNIT_EXPECT_EQ(test, 5, le16_to_cpu(*(__le16 *)(mem + USED +
							 USED_RING(QSZ))));
}

static struct kunit_case virtqueue_cases[] = {
	KUNIT_CASE(vq_good_chain),
	KUNIT_CASE(vq_disabled_queue),
	KUNIT_CASE(vq_good_indirect),
	KUNIT_CASE(vq_loop),
	KUNIT_CASE(vq_outside_ram),
	KUNIT_CASE(vq_overflow),
	KUNIT_CASE(vq_indirect_nested),
	KUNIT_CASE(vq_indirect_next),
	KUNIT_CASE(vq_indirect_len),
	KUNIT_CASE(vq_read_after_write),
	KUNIT_CASE(vq_avail_jump),
	KUNIT_CASE(vq_event_idx_suppress),
	{}
};

static struct kunit_suite virtqueue_suite = {
	.name = "vsnix_virtqueue",
	.test_cases = virtqueue_cases,
};
kunit_test_suite(virtqueue_suite);
