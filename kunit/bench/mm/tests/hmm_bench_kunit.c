// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the unified walk: for each page state and range
 * size, the time and the counted steps of each way to fault and prepare a
 * range for migration. One line per measurement:
 *
 *   BENCH <strategy> <state> <KiB> <median> <min> <max> <walks> <ptes>
 *	   <pte locks> <pmd locks> <faults> <invalidations> <pages prepared>
 *	   <min per call> <median per call>
 *
 * times in ns per page (the last two: ns per call, unrounded),
 * counts per call (the same on every repetition).
 * Marked very slow (minutes): a run filtered with 'speed>very_slow' leaves
 * it out, and keeps the slow cases of the tests.
 *
 * Strategies:
 *   two_walk	hmm_range_fault() then migrate_vma_setup()
 *   three_walk	migrate_vma_setup(); if it could not prepare everything,
 *		undo, hmm_range_fault(), migrate_vma_setup() again
 *   unified	hmm_range_fault(HMM_PFN_REQ_MIGRATE) + migrate_hmm_range_setup()
 *   vma_fault	migrate_vma_setup(MIGRATE_VMA_FAULT) (read faults only)
 *   plain_fault, plain_setup	hmm_range_fault() without faults and
 *		migrate_vma_setup() without MIGRATE_VMA_FAULT: the calls
 *		drivers make today, in every state, to compare kernels
 *   reference	write-faulting fresh anonymous memory: no HMM code, the
 *		yardstick that makes times of two boots comparable
 *
 * On a kernel without the single walk only the plain_* and reference
 * lines are built. The patch that counts the steps of the single walk
 * defines HMM_BENCH_UNIFIED, and HMM_BENCH_COUNTS where the counting is
 * on (CONFIG_HMM_KUNIT_BENCH_COUNTS).
 */
#include <linux/mm.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mman.h>
#include <linux/sort.h>

#include "../internal.h"
#include "hmm_kunit.h"

#define REPS	5

enum bench_state {
	S_PRESENT,	/* written anonymous pages */
	S_NONE,		/* never touched */
	S_COW,		/* read-only file pages of a private mapping: write wanted */
	S_ZERO,		/* the zero page */
	S_THP,		/* written THPs */
	S_DEVICE,	/* our own device private pages */
	S_HALF,		/* first half present, second half read-only (COW) */
};

static const char * const state_names[] = {
	"present", "none", "cow", "zero", "thp", "device", "half",
};

enum bench_strategy { TWO_WALK, THREE_WALK, UNIFIED, VMA_FAULT, PLAIN_FAULT,
		      PLAIN_SETUP, NR_STRATEGIES };

static const char * const strategy_names[] = {
	"two_walk", "three_walk", "unified", "vma_fault", "plain_fault",
	"plain_setup",
};

struct bench_counts {
	unsigned long walks, ptes, ptl, pmdl, faults;
};

static struct bench_counts bench_counts(void)
{
#ifdef HMM_BENCH_COUNTS
	return (struct bench_counts) {
		hmm_walk_counts[HMM_COUNT_WALKS],
		hmm_walk_counts[HMM_COUNT_PTES],
		hmm_walk_counts[HMM_COUNT_PTE_LOCKS],
		hmm_walk_counts[HMM_COUNT_PMD_LOCKS],
		hmm_walk_counts[HMM_COUNT_FAULTS],
	};
#else
	return (struct bench_counts) {};
#endif
}

/* A fresh range in @state; mapped so that its PMDs are THP aligned */
static unsigned long bench_map(struct hmmk *ctx, enum bench_state state,
			       unsigned long npages)
{
	unsigned long addr, half = npages / 2;

	switch (state) {
	case S_COW:
		addr = hmmk_map_shmem(ctx, npages, false);
		hmmk_read(ctx, addr, npages);
		return addr;
	case S_HALF:
		addr = hmmk_map_shmem(ctx, npages, false);
		hmmk_write(ctx, addr, half);
		hmmk_read(ctx, addr + half * PAGE_SIZE, npages - half);
		return addr;
	case S_THP:
		addr = hmmk_map_thp(ctx, DIV_ROUND_UP(npages, HMMK_PMD_PAGES));
		hmmk_write(ctx, addr, npages);
		return addr;
	default:
		break;
	}
	addr = hmmk_map_anon(ctx, npages);
	if (state == S_PRESENT || state == S_DEVICE)
		hmmk_write(ctx, addr, npages);
	if (state == S_ZERO)
		hmmk_read(ctx, addr, npages);
	if (state == S_DEVICE)
		hmmk_to_device(ctx, ctx->dev, addr, npages, false);
	return addr;
}

/* migrate_vma_setup(), the mmap lock held */
static int bench_setup(struct hmmk *ctx, struct migrate_vma *m)
{
	int ret;

	mmap_read_lock(ctx->mm);
	m->vma = vma_lookup(ctx->mm, m->start);
	ret = migrate_vma_setup(m);
	mmap_read_unlock(ctx->mm);
	return ret;
}

/*
 * hmm_range_fault() as a driver calls it, retried while the range changes
 * (a COW break invalidates it); with range->migrate, then the setup.
 */
static int bench_fault(struct hmmk *ctx, struct hmm_range *range)
{
	int ret;

	do {
		range->notifier_seq = mmu_interval_read_begin(&ctx->mni);
		mmap_read_lock(ctx->mm);
		ret = hmm_range_fault(range);
#ifdef HMM_BENCH_UNIFIED
		if (!ret && range->migrate)
			migrate_hmm_range_setup(range);
#endif
		mmap_read_unlock(ctx->mm);
	} while (ret == -EBUSY);
	return ret;
}

static void bench_restore(struct hmmk *ctx, struct migrate_vma *m)
{
	mmap_read_lock(ctx->mm);
	hmmk_restore(m);
	mmap_read_unlock(ctx->mm);
}

/* Pages of m->src prepared for migration, a compound entry as its pages */
static unsigned long bench_prepared(struct migrate_vma *m)
{
	unsigned long i, n = 0;

	for (i = 0; i < m->npages; i++)
		if (m->src[i] & MIGRATE_PFN_MIGRATE)
			n += m->src[i] & MIGRATE_PFN_COMPOUND ? HMMK_PMD_PAGES : 1;
	return n;
}

/* Would a driver that wants @req have to fault before migrating? */
static bool bench_incomplete(struct migrate_vma *m, unsigned long req)
{
	unsigned long i;

	for (i = 0; i < m->npages;
	     i += m->src[i] & MIGRATE_PFN_COMPOUND ? HMMK_PMD_PAGES : 1) {
		if (!(m->src[i] & MIGRATE_PFN_MIGRATE))
			return true;
		if ((req & HMM_PFN_REQ_WRITE) && migrate_pfn_to_page(m->src[i]) &&
		    !(m->src[i] & MIGRATE_PFN_WRITE))
			return true;
	}
	return false;
}

/* Run one strategy on [addr, +npages); leave what it prepared in @m */
static int bench_run(struct hmmk *ctx, enum bench_strategy s, unsigned long addr,
		     unsigned long npages, unsigned long req,
		     unsigned long select, struct migrate_vma *m)
{
	struct hmm_range range;
	int ret = 0;

	hmmk_migrate_init(ctx, m, addr, npages, select);
	hmmk_range_init(ctx, &range, addr, npages, req);
	switch (s) {
	case TWO_WALK:
		ret = bench_fault(ctx, &range);
		if (!ret)
			ret = bench_setup(ctx, m);
		break;
	case THREE_WALK:
		ret = bench_setup(ctx, m);
		if (ret || !bench_incomplete(m, req))
			break;
		bench_restore(ctx, m);
		ret = bench_fault(ctx, &range);
		if (!ret)
			ret = bench_setup(ctx, m);
		break;
#ifdef HMM_BENCH_UNIFIED
	case UNIFIED:
		range.default_flags |= HMM_PFN_REQ_MIGRATE;
		range.migrate = m;
		ret = bench_fault(ctx, &range);
		break;
	case VMA_FAULT:
		m->flags |= MIGRATE_VMA_FAULT;
		ret = bench_setup(ctx, m);
		break;
#endif
	case PLAIN_FAULT:
		range.default_flags = 0;
		ret = bench_fault(ctx, &range);
		break;
	case PLAIN_SETUP:
		ret = bench_setup(ctx, m);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void bench_one(struct kunit *test, struct hmmk *ctx,
		      enum bench_strategy s, enum bench_state state,
		      unsigned long npages)
{
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM |
			       MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	unsigned long req = HMM_PFN_REQ_FAULT;
	struct bench_counts c0, c1 = {};
	unsigned long prepared = 0;
	int rep, inval = 0;
	u64 ns[REPS];

	if (state == S_COW || state == S_HALF)
		req |= HMM_PFN_REQ_WRITE;
	if (state == S_THP)
		select |= MIGRATE_VMA_SELECT_COMPOUND;

	for (rep = 0; rep < REPS; rep++) {
		unsigned long addr = bench_map(ctx, state, npages);
		struct migrate_vma m;
		int starts = ctx->counts.starts;
		u64 t;
		int ret;

		c0 = bench_counts();
		t = ktime_get_ns();
		ret = bench_run(ctx, s, addr, npages, req, select, &m);
		ns[rep] = ktime_get_ns() - t;
		c1 = bench_counts();
		inval = ctx->counts.starts - starts;
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "%s on %s: %pe",
				    strategy_names[s], state_names[state],
				    ERR_PTR(ret));
		if (s != PLAIN_FAULT) {
			prepared = bench_prepared(&m);
			bench_restore(ctx, &m);
		}
		hmmk_unmap(ctx, addr, npages);
	}
	sort(ns, REPS, sizeof(ns[0]), cmp_u64, NULL);
	kunit_info(test, "BENCH %s %s %lu %llu %llu %llu %lu %lu %lu %lu %lu %d %lu %llu %llu\n",
		   strategy_names[s], state_names[state],
		   npages << (PAGE_SHIFT - 10), ns[REPS / 2] / npages,
		   ns[0] / npages, ns[REPS - 1] / npages,
		   c1.walks - c0.walks, c1.ptes - c0.ptes, c1.ptl - c0.ptl,
		   c1.pmdl - c0.pmdl, c1.faults - c0.faults, inval, prepared,
		   ns[0], ns[REPS / 2]);
}

/* The yardstick: write faults of fresh anonymous memory, no HMM code */
static void bench_reference(struct kunit *test, struct hmmk *ctx,
			    unsigned long npages)
{
	u64 ns[REPS], t;
	int rep;

	for (rep = 0; rep < REPS; rep++) {
		unsigned long addr = hmmk_map_anon(ctx, npages);

		t = ktime_get_ns();
		hmmk_write(ctx, addr, npages);
		ns[rep] = ktime_get_ns() - t;
		hmmk_unmap(ctx, addr, npages);
	}
	sort(ns, REPS, sizeof(ns[0]), cmp_u64, NULL);
	kunit_info(test, "BENCH reference anon %lu %llu %llu %llu 0 0 0 0 0 0 0 %llu %llu\n",
		   npages << (PAGE_SHIFT - 10), ns[REPS / 2] / npages,
		   ns[0] / npages, ns[REPS - 1] / npages, ns[0], ns[REPS / 2]);
}

static const unsigned long bench_kib[] = { 64, 256, 1024, 4096, 16384, 65536 };

/* Its parameters are hmm_bench.*, whichever object it is built into */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "hmm_bench."

/* hmm_bench.only=<state>: measure one page state only */
static char *only;
module_param(only, charp, 0444);

/* hmm_bench.plain=1: measure only the calls drivers make today */
static bool plain;
module_param(plain, bool, 0444);

static bool bench_wanted(enum bench_strategy s)
{
	if (s == PLAIN_FAULT || s == PLAIN_SETUP)
		return true;
#ifdef HMM_BENCH_UNIFIED
	return !plain;
#else
	return false;
#endif
}

static void hmm_bench_all(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	enum bench_state state;
	enum bench_strategy s;
	int i;

	KUNIT_ASSERT_EQ(test, hmmk_dev_init(ctx), 0);
	for (i = 0; i < ARRAY_SIZE(bench_kib); i++) {
		unsigned long npages = bench_kib[i] >> (PAGE_SHIFT - 10);

		bench_reference(test, ctx, npages);
		for (state = S_PRESENT; state <= S_HALF; state++) {
			/* THPs need whole PMDs; device memory is 64 MiB */
			if (state == S_THP && npages < HMMK_PMD_PAGES)
				continue;
			if (state == S_DEVICE && bench_kib[i] > SZ_16M / SZ_1K)
				continue;
			if (only && strcmp(only, state_names[state]))
				continue;
			for (s = TWO_WALK; s < NR_STRATEGIES; s++)
				if (bench_wanted(s))
					bench_one(test, ctx, s, state, npages);
		}
	}
}

static struct kunit_case hmm_bench_test_cases[] = {
	KUNIT_CASE_ATTR(hmm_bench_all, { .speed = KUNIT_SPEED_VERY_SLOW }),
	{}
};

static struct kunit_suite hmm_bench_test_suite = {
	.name = "hmm_bench",
	.init = hmmk_suite_init,
	.test_cases = hmm_bench_test_cases,
};

kunit_test_suite(hmm_bench_test_suite);
