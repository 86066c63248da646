/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsnix tracepoints (system "vsnix"): tracepoint:vsnix:<event> in
 * bpftrace and perf, /sys/kernel/tracing/events/vsnix/ in tracefs.
 * Names and fields are vendor neutral; exits carry the raw SVM exit code
 * or VMX basic exit reason as an extra field. See
 * Documentation/observability.rst.
 *
 * Disabled events cost one static branch each. Arguments that cost more
 * than a load (clock reads) are computed only under trace_*_enabled().
 * Built with VSNIX_TRACE=0 (make VSNIX_TRACE=0) every event is an empty
 * inline function: the baseline of Documentation/benchmarks.rst.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vsnix

#if !defined(VSNIX_CORE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VSNIX_CORE_TRACE_H

#include <linux/tracepoint.h>

#ifdef VSNIX_NO_TRACE
#undef TRACE_EVENT
#define TRACE_EVENT(name, proto, args, tstruct, assign, print)		\
	static inline void trace_##name(proto) { }			\
	static inline bool trace_##name##_enabled(void) { return false; }
#endif

/* Where an I/O access was served (the "where" field). */
#define VSNIX_TRACE_IO_KERNEL	0	/* an in-kernel device */
#define VSNIX_TRACE_IO_USER	1	/* an exit to userspace */
#define VSNIX_TRACE_IO_EVENTFD	2	/* an ioeventfd took the write */

TRACE_EVENT(vsnix_vm_create,
	TP_PROTO(u32 vm, pid_t pid),
	TP_ARGS(vm, pid),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(pid_t, pid)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->pid = pid;
	),
	TP_printk("vm %u pid %d", __entry->vm, __entry->pid)
);

TRACE_EVENT(vsnix_vm_destroy,
	TP_PROTO(u32 vm),
	TP_ARGS(vm),
	TP_STRUCT__entry(
		__field(u32, vm)
	),
	TP_fast_assign(
		__entry->vm = vm;
	),
	TP_printk("vm %u", __entry->vm)
);

/* since_exit_ns: time from the vCPU's last exit to this entry, 0 at first. */
TRACE_EVENT(vsnix_vcpu_entry,
	TP_PROTO(u32 vm, u32 vcpu, u64 rip, u64 since_exit_ns),
	TP_ARGS(vm, vcpu, rip, since_exit_ns),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u64, rip)
		__field(u64, since_exit_ns)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->rip = rip;
		__entry->since_exit_ns = since_exit_ns;
	),
	TP_printk("vm %u vcpu %u rip 0x%llx since_exit %llu ns",
		  __entry->vm, __entry->vcpu, __entry->rip,
		  __entry->since_exit_ns)
);

/* reason: VSNIX_STAT_EXIT_* (stats.h); raw: the vendor's code. */
TRACE_EVENT(vsnix_vcpu_exit,
	TP_PROTO(u32 vm, u32 vcpu, u32 reason, u64 raw, u64 rip,
		 u64 guest_ns),
	TP_ARGS(vm, vcpu, reason, raw, rip, guest_ns),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u32, reason)
		__field(u64, raw)
		__field(u64, rip)
		__field(u64, guest_ns)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->reason = reason;
		__entry->raw = raw;
		__entry->rip = rip;
		__entry->guest_ns = guest_ns;
	),
	TP_printk("vm %u vcpu %u reason %u raw 0x%llx rip 0x%llx guest %llu ns",
		  __entry->vm, __entry->vcpu, __entry->reason, __entry->raw,
		  __entry->rip, __entry->guest_ns)
);

/* One port I/O or MMIO access; dev 0: no in-kernel device. */
TRACE_EVENT(vsnix_io,
	TP_PROTO(u32 vm, u32 vcpu, bool mmio, u64 addr, u32 size, bool write,
		 u64 val, u32 dev, u32 where),
	TP_ARGS(vm, vcpu, mmio, addr, size, write, val, dev, where),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u8, mmio)
		__field(u8, write)
		__field(u8, where)
		__field(u32, size)
		__field(u32, dev)
		__field(u64, addr)
		__field(u64, val)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->mmio = mmio;
		__entry->write = write;
		__entry->where = where;
		__entry->size = size;
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->val = val;
	),
	TP_printk("vm %u vcpu %u %s %s 0x%llx size %u val 0x%llx dev %u %s",
		  __entry->vm, __entry->vcpu, __entry->mmio ? "mmio" : "pio",
		  __entry->write ? "write" : "read", __entry->addr,
		  __entry->size, __entry->val, __entry->dev,
		  __print_symbolic(__entry->where,
				   { VSNIX_TRACE_IO_KERNEL, "kernel" },
				   { VSNIX_TRACE_IO_USER, "user" },
				   { VSNIX_TRACE_IO_EVENTFD, "ioeventfd" }))
);

TRACE_EVENT(vsnix_hypercall,
	TP_PROTO(u32 vm, u32 vcpu, u32 nr, s32 ret, u64 latency_ns),
	TP_ARGS(vm, vcpu, nr, ret, latency_ns),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u32, nr)
		__field(s32, ret)
		__field(u64, latency_ns)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->nr = nr;
		__entry->ret = ret;
		__entry->latency_ns = latency_ns;
	),
	TP_printk("vm %u vcpu %u nr %u ret %d latency %llu ns",
		  __entry->vm, __entry->vcpu, __entry->nr, __entry->ret,
		  __entry->latency_ns)
);

/* type: VSNIX_INJECTED_* (uapi), vector: the IDT vector. */
TRACE_EVENT(vsnix_inject,
	TP_PROTO(u32 vm, u32 vcpu, u32 type, u32 vector),
	TP_ARGS(vm, vcpu, type, vector),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(u32, type)
		__field(u32, vector)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->type = type;
		__entry->vector = vector;
	),
	TP_printk("vm %u vcpu %u type %u vector %u", __entry->vm,
		  __entry->vcpu, __entry->type, __entry->vector)
);

TRACE_EVENT(vsnix_halt,
	TP_PROTO(u32 vm, u32 vcpu),
	TP_ARGS(vm, vcpu),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
	),
	TP_printk("vm %u vcpu %u", __entry->vm, __entry->vcpu)
);

/* ret: 1 runnable again, 0 or -errno: the wait ended otherwise. */
TRACE_EVENT(vsnix_wake,
	TP_PROTO(u32 vm, u32 vcpu, s32 ret, u64 halted_ns),
	TP_ARGS(vm, vcpu, ret, halted_ns),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, vcpu)
		__field(s32, ret)
		__field(u64, halted_ns)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->ret = ret;
		__entry->halted_ns = halted_ns;
	),
	TP_printk("vm %u vcpu %u ret %d halted %llu ns", __entry->vm,
		  __entry->vcpu, __entry->ret, __entry->halted_ns)
);

/* A device was told of new work on a queue (doorbell, ioeventfd). */
TRACE_EVENT(vsnix_dev_kick,
	TP_PROTO(u32 vm, u32 dev, u32 queue),
	TP_ARGS(vm, dev, queue),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, dev)
		__field(u32, queue)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->dev = dev;
		__entry->queue = queue;
	),
	TP_printk("vm %u dev %u queue %u", __entry->vm, __entry->dev,
		  __entry->queue)
);

/* A device finished requests of a queue (count of them, bytes moved). */
TRACE_EVENT(vsnix_dev_complete,
	TP_PROTO(u32 vm, u32 dev, u32 queue, u32 count, u64 bytes),
	TP_ARGS(vm, dev, queue, count, bytes),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, dev)
		__field(u32, queue)
		__field(u32, count)
		__field(u64, bytes)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->dev = dev;
		__entry->queue = queue;
		__entry->count = count;
		__entry->bytes = bytes;
	),
	TP_printk("vm %u dev %u queue %u count %u bytes %llu", __entry->vm,
		  __entry->dev, __entry->queue, __entry->count,
		  __entry->bytes)
);

TRACE_EVENT(vsnix_memory_region,
	TP_PROTO(u32 vm, u32 slot, u32 flags, u64 gpa, u64 size, u64 hva,
		 s32 ret),
	TP_ARGS(vm, slot, flags, gpa, size, hva, ret),
	TP_STRUCT__entry(
		__field(u32, vm)
		__field(u32, slot)
		__field(u32, flags)
		__field(s32, ret)
		__field(u64, gpa)
		__field(u64, size)
		__field(u64, hva)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->slot = slot;
		__entry->flags = flags;
		__entry->ret = ret;
		__entry->gpa = gpa;
		__entry->size = size;
		__entry->hva = hva;
	),
	TP_printk("vm %u slot %u flags 0x%x gpa 0x%llx size 0x%llx hva 0x%llx ret %d",
		  __entry->vm, __entry->slot, __entry->flags, __entry->gpa,
		  __entry->size, __entry->hva, __entry->ret)
);

#endif /* VSNIX_CORE_TRACE_H */

#ifndef VSNIX_NO_TRACE
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
#endif
