// SPDX-License-Identifier: GPL-2.0
/*
 * The hmm_migrate_device suite: device private pages, small and THP, of
 * the caller's pgmap owner and of another, and the CPU fault that brings
 * them back (migrate_to_ram() with a fault_page).
 */
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/falloc.h>
#include <linux/delay.h>
#include <linux/huge_mm.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mman.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/swap.h>

#include "hmm_migrate_kunit.h"

/*
 * Another driver's device private page after pages already prepared: its
 * migrate_to_ram() runs with none of them locked (they are put back first,
 * then prepared again), and every page ends up prepared.
 */
static void hmm_migrate_foreign_unlocked(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->foreign, addr + 2 * PAGE_SIZE, NPAGES - 2,
		       false);
	ctx->probe_page = hmmk_page(ctx, addr);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ_MSG(test, ctx->probe_locked, 0,
			    "page 0's folio was locked in another driver's migrate_to_ram() (-1: not called)");
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		struct page *page = migrate_pfn_to_page(p.migrate.src[i]);

		KUNIT_EXPECT_TRUE_MSG(test, page && !is_zone_device_page(page),
				      "page %lu not prepared in RAM", i);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
}

/*
 * Our own device pages: prepared with MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
 * else reported as they are, never faulted back. Writable, then read-only,
 * then with one folio locked elsewhere.
 */
static void hmm_migrate_device_own(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->dev, addr, NPAGES, false);
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	hmmk_expect_prepared(ctx, &p.migrate, snap);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; *via == VIA_HMM && i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE,
				    "page %lu", i);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_DEVICE), NPAGES);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);

	/*
	 * Read-only device entries (mprotect()): prepared, and reported,
	 * read-only, as plain migrate_vma_setup() collects them
	 */
	hmmk_mprotect(ctx, addr, NPAGES, PROT_READ);
	HMMK_ASSERT_RET(test, hmmk_prepare_as_plain(ctx, &p, *via, addr, NPAGES,
						    HMM_PFN_REQ_FAULT,
						    MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    hmmk_src_of(snap->p[i].page, false),
				    "page %lu", i);
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_VALID | HMM_PFN_MIGRATE,
					    "page %lu", i);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; *via == VIA_HMM && i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID, "page %lu read-only", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_DEVICE), NPAGES);

	/*
	 * Page 2's folio locked elsewhere: left out, as plain setup does
	 * (no assertion until it is unlocked)
	 */
	KUNIT_ASSERT_TRUE(test, folio_trylock(page_folio(snap->p[2].page)));
	HMMK_EXPECT_RET(test, hmmk_prepare_as_plain(ctx, &p, *via, addr, NPAGES,
						    HMM_PFN_REQ_FAULT,
						    MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
	KUNIT_EXPECT_FALSE(test, p.migrate.src[2] & MIGRATE_PFN_MIGRATE);
	if (*via == VIA_HMM)
		KUNIT_EXPECT_EQ(test, p.range.hmm_pfns[2] & HMMK_FLAGS,
				HMM_PFN_VALID);
	hmmk_prep_restore(ctx, &p);
	folio_unlock(page_folio(snap->p[2].page));
	hmmk_expect_restored(ctx, snap);
	hmmk_unmap(ctx, addr, NPAGES);
}

/*
 * PTEs the selection does not take: written pages and zero pages walked
 * with MIGRATE_VMA_SELECT_DEVICE_PRIVATE only, beside our device pages and
 * pte_none. Only the device pages and the holes are prepared, as plain
 * migrate_vma_setup() prepares them; the others are reported as they are
 * mapped, not faulted (a read request is met) and not unmapped.
 */
static void hmm_migrate_pte_not_selected(struct kunit *test)
{
	static const enum hmmk_state states[NPAGES] = {
		HMMK_ANON, HMMK_ZERO, HMMK_DEV_OWN, HMMK_NONE,
		HMMK_ZERO, HMMK_ANON, HMMK_NONE, HMMK_DEV_OWN,
	};
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, addr, states, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	HMMK_ASSERT_RET(test, hmmk_prepare_as_plain(ctx, &p, *via, addr, NPAGES,
						    HMM_PFN_REQ_FAULT,
						    MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 4);
	for (i = 0; i < NPAGES; i++) {
		unsigned long a = addr + i * PAGE_SIZE, want, out;

		switch (states[i]) {
		case HMMK_DEV_OWN:
			KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
					    hmmk_src_of(snap->p[i].page, true),
					    "page %lu", i);
			continue;
		case HMMK_NONE:
			KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
					    MIGRATE_PFN_MIGRATE, "page %lu", i);
			continue;
		case HMMK_ANON:
			want = HMM_PFN_VALID | HMM_PFN_WRITE;
			KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, a),
					    HMMK_PTE_PRESENT, "page %lu", i);
			break;
		default:
			want = HMM_PFN_VALID;
			KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, a),
					    HMMK_PTE_ZERO, "page %lu", i);
			break;
		}
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], 0, "page %lu", i);
		if (*via != VIA_HMM)
			continue;
		out = p.range.hmm_pfns[i];
		KUNIT_EXPECT_EQ_MSG(test, out & HMMK_FLAGS, want, "page %lu", i);
		if (states[i] == HMMK_ANON)
			KUNIT_EXPECT_EQ_MSG(test, out & ~HMM_PFN_FLAGS,
					    page_to_pfn(snap->p[i].page),
					    "page %lu: pfn", i);
		else
			KUNIT_EXPECT_TRUE_MSG(test,
					      is_zero_pfn(out & ~HMM_PFN_FLAGS),
					      "page %lu: not the zero page", i);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
	hmmk_unmap(ctx, addr, NPAGES);
}

/*
 * Another driver's device page whose migrate_to_ram() reports success but
 * leaves the page on its device, every time: the walk faults it a bounded
 * number of times, then hmm_range_fault() returns -EBUSY with nothing left
 * prepared, and migrate_vma_setup(MIGRATE_VMA_FAULT), best effort, drops
 * that page's fault request and prepares the others.
 */
static void hmm_migrate_device_refuses(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long addr;
	int ret;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->foreign, addr + 2 * PAGE_SIZE, 1, false);
	ctx->to_ram_refuse = true;
	ctx->to_ram_calls = 0;

	ret = hmmk_prepare(ctx, &p, *via, addr, NPAGES, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	KUNIT_EXPECT_GT(test, ctx->to_ram_calls, 0);
	if (*via == VIA_HMM) {
		HMMK_EXPECT_RET(test, ret, -EBUSY);
		hmmk_expect_no_migrate_out(ctx, &p);
	} else {
		HMMK_EXPECT_RET(test, ret, 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
		KUNIT_EXPECT_FALSE(test, p.migrate.src[2] & MIGRATE_PFN_MIGRATE);
		hmmk_prep_restore(ctx, &p);
	}
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + 2 * PAGE_SIZE),
			HMMK_PTE_DEVICE);

	ctx->to_ram_refuse = false;
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
}

/*
 * A CPU fault on our own device page, where the driver's migrate_to_ram()
 * calls migrate_vma_setup() with MIGRATE_VMA_FAULT and fault_page (and
 * MIGRATE_VMA_SELECT_SYSTEM, without which the walk of hmm_range_fault()
 * does not run): the fault path already holds that page's lock, so the
 * walk prepares it without locking it again, and the other pages of the
 * range with their own lock. The pages come back with their data.
 */
static void hmm_migrate_device_cpu_fault(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	unsigned long addr, blk;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, 2 * NPAGES);
	hmmk_write(ctx, addr, 2 * NPAGES);
	hmmk_to_device(ctx, ctx->dev, addr, 2 * NPAGES, false);
	/* NPAGES pages in the VMA, aligned as migrate_to_ram() aligns them */
	blk = ALIGN(addr, NPAGES << PAGE_SHIFT);
	ctx->to_ram_flags = MIGRATE_VMA_FAULT | MIGRATE_VMA_SELECT_SYSTEM;

	ctx->to_ram_npages = 1;
	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, blk + 2 * PAGE_SIZE),
			hmmk_tag(ctx, blk + 2 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, ctx->to_ram_cpages, 1);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, blk + 2 * PAGE_SIZE),
			HMMK_PTE_PRESENT);

	/* The whole block: page 2 is system memory now, selected too */
	ctx->to_ram_npages = NPAGES;
	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, blk + 5 * PAGE_SIZE),
			hmmk_tag(ctx, blk + 5 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, ctx->to_ram_cpages, NPAGES);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, blk, NPAGES,
					     HMMK_PTE_PRESENT), NPAGES);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, 2 * NPAGES,
					     HMMK_PTE_DEVICE), NPAGES);
	hmmk_expect_data(ctx, blk, NPAGES);
	hmmk_expect_unleaked(ctx, addr, 2 * NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, 2 * NPAGES);
}

/*
 * The same, with another owner's device page next to ours in the range of
 * our migrate_to_ram(): the fault path holds our page locked, and faulting
 * the other page would run its owner's migrate_to_ram(), whose walk waits
 * for our page's lock in this same thread (it hung). The walk must leave
 * that page as it is: on its device, not collected, its owner not called.
 */
static void hmm_migrate_device_cpu_fault_foreign(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	unsigned long addr, blk;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, 2 * NPAGES);
	hmmk_write(ctx, addr, 2 * NPAGES);
	blk = ALIGN(addr, NPAGES << PAGE_SHIFT);
	hmmk_to_device(ctx, ctx->dev, blk, 1, false);
	hmmk_to_device(ctx, ctx->foreign, blk + PAGE_SIZE, 1, false);
	ctx->to_ram_flags = MIGRATE_VMA_FAULT | MIGRATE_VMA_SELECT_SYSTEM;
	ctx->to_ram_npages = 2;
	ctx->to_ram_calls = 0;

	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, blk), hmmk_tag(ctx, blk));
	KUNIT_EXPECT_EQ_MSG(test, ctx->to_ram_calls, 1,
			    "the other owner's migrate_to_ram() was called under our fault page's lock");
	KUNIT_EXPECT_EQ(test, ctx->to_ram_cpages, 1);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, blk), HMMK_PTE_PRESENT);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, blk + PAGE_SIZE), HMMK_PTE_DEVICE);
	KUNIT_EXPECT_EQ(test, hmmk_dev_pages_used(ctx->foreign), 1);

	/* Touched by itself, the other page comes back through its owner */
	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, blk + PAGE_SIZE),
			hmmk_tag(ctx, blk + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, ctx->to_ram_calls, 2);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, 2 * NPAGES,
					     HMMK_PTE_PRESENT), 2 * NPAGES);
	hmmk_expect_data(ctx, addr, 2 * NPAGES);
	hmmk_expect_unleaked(ctx, addr, 2 * NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, 2 * NPAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev) +
			    hmmk_dev_pages_used(ctx->foreign), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * The same, with a device-exclusive entry next to our device page in the
 * range of our migrate_to_ram(): its fault cannot wait for our fault page
 * (remove_device_exclusive_entry() only locks that entry's folio, and
 * FAULT_FLAG_RETRY_NOWAIT answers VM_FAULT_RETRY if it is locked), so the
 * walk makes it with nothing but the fault page held, and collects both
 * pages with their data.
 */
static void hmm_migrate_device_cpu_fault_exclusive(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	unsigned long addr, blk;
	struct folio *folio;
	struct page *page;

	/* Constant: no call to make_device_exclusive() is left without it */
	HMMK_SKIP_UNLESS(test, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
			 "CONFIG_DEVICE_PRIVATE (make_device_exclusive())");
	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, 2 * NPAGES);
	hmmk_write(ctx, addr, 2 * NPAGES);
	blk = ALIGN(addr, NPAGES << PAGE_SHIFT);
	hmmk_to_device(ctx, ctx->dev, blk, 1, false);
	mmap_read_lock(ctx->mm);
	page = make_device_exclusive(ctx->mm, blk + PAGE_SIZE, ctx, &folio);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(page));
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, blk + PAGE_SIZE), HMMK_PTE_OTHER);
	ctx->to_ram_flags = MIGRATE_VMA_FAULT | MIGRATE_VMA_SELECT_SYSTEM;
	ctx->to_ram_npages = 2;
	ctx->to_ram_calls = 0;

	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, blk), hmmk_tag(ctx, blk));
	KUNIT_EXPECT_EQ(test, ctx->to_ram_calls, 1);
	KUNIT_EXPECT_EQ_MSG(test, ctx->to_ram_cpages, 2,
			    "the device-exclusive page was not faulted in and collected");
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, blk), HMMK_PTE_PRESENT);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, blk + PAGE_SIZE),
			HMMK_PTE_PRESENT);
	hmmk_expect_data(ctx, addr, 2 * NPAGES);
	hmmk_expect_unleaked(ctx, addr, 2 * NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, 2 * NPAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * hmm_range_fault() called as from our migrate_to_ram(): fault_page set and
 * locked, over another owner's device page that asks for a fault. That
 * fault would run the other owner's migrate_to_ram() under our lock: the
 * walk refuses it (-EFAULT), leaves nothing prepared and calls nobody.
 */
static void hmm_migrate_device_fault_page_foreign(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct migrate_vma migrate;
	struct hmm_range range;
	struct page *page;
	unsigned long addr;
	int ret;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->dev, addr, 1, false);
	hmmk_to_device(ctx, ctx->foreign, addr + PAGE_SIZE, 1, false);
	page = hmmk_page(ctx, addr);
	KUNIT_ASSERT_NOT_NULL(test, page);
	hmmk_migrate_init(ctx, &migrate, addr, NPAGES,
			  MIGRATE_VMA_SELECT_SYSTEM |
			  MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
	migrate.fault_page = page;
	hmmk_range_init(ctx, &range, addr, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
	range.migrate = &migrate;
	ctx->to_ram_calls = 0;

	lock_page(page);
	ret = hmmk_fault(ctx, &range);
	/* A walk that went on left pages prepared: back, or unmap hangs */
	if (!ret)
		hmmk_setup_restore(ctx, &range, &migrate);
	unlock_page(page);
	HMMK_EXPECT_RET(test, ret, -EFAULT);
	KUNIT_EXPECT_EQ(test, ctx->to_ram_calls, 0);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 0);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_DEVICE);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + PAGE_SIZE), HMMK_PTE_DEVICE);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev) +
			    hmmk_dev_pages_used(ctx->foreign), 0,
			    "device pages not freed: a reference leaked");
}

/* Another owner's device pages: faulted back to RAM, then prepared */
static void hmm_migrate_device_foreign(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->foreign, addr, NPAGES, false);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		struct page *page = migrate_pfn_to_page(p.migrate.src[i]);

		KUNIT_EXPECT_TRUE_MSG(test, page && !is_zone_device_page(page),
				      "page %lu not faulted back", i);
	}
	hmmk_prep_restore(ctx, &p);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				hmmk_tag(ctx, addr + i * PAGE_SIZE));
	hmmk_expect_balanced(ctx);

	/* Without a fault request they stay where they are */
	hmmk_to_device(ctx, ctx->foreign, addr, NPAGES, false);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_DEVICE), NPAGES);
	hmmk_prep_restore(ctx, &p);
	hmmk_unmap(ctx, addr, NPAGES);
}

/*
 * A device private THP of ours: one unit with MIGRATE_VMA_SELECT_COMPOUND,
 * else split. Neither may loop forever.
 */
static void hmm_migrate_device_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long addr, select;
	struct hmmk_prep p;

	addr = hmmk_device_thp(ctx, false);

	select = MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MIGRATE_VMA_SELECT_COMPOUND;
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT, select), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
	KUNIT_EXPECT_TRUE(test, p.migrate.src[0] & MIGRATE_PFN_COMPOUND);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));

	select = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT, select), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, HMMK_PMD_PAGES);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE), HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
}

/*
 * Our device private THP made read-only by mprotect(): prepared read-only,
 * as one unit with MIGRATE_VMA_SELECT_COMPOUND. Then mprotect() of its first
 * pages: the VMA splits, the PMD becomes PTEs of one large device folio,
 * and each side is prepared page by page, read-only: the second side
 * first, whose first page is a tail page of that folio.
 */
static void hmm_migrate_device_thp_rdonly(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	const unsigned long rw = 16;
	struct hmmk *ctx = test->priv;
	unsigned long addr, select, i;
	struct hmmk_prep p;

	addr = hmmk_device_thp(ctx, false);
	hmmk_mprotect(ctx, addr, HMMK_PMD_PAGES, PROT_READ);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));

	select = MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MIGRATE_VMA_SELECT_COMPOUND;
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT, select), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
	KUNIT_EXPECT_EQ(test, p.migrate.src[0] & (BIT(MIGRATE_PFN_SHIFT) - 1),
			MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE |
			MIGRATE_PFN_COMPOUND);
	if (*via == VIA_HMM)
		KUNIT_EXPECT_FALSE(test, p.range.hmm_pfns[0] & HMM_PFN_WRITE);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));

	/* mprotect() never makes a device entry writable: both stay read-only */
	hmmk_mprotect(ctx, addr, rw, PROT_READ | PROT_WRITE);
	KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE), HMMK_PMD_PAGES);
	/* The second VMA first: the walk meets the folio at a tail page */
	for (i = 0; i < 2; i++) {
		unsigned long start = i ? addr : addr + rw * PAGE_SIZE;
		unsigned long n = i ? rw : HMMK_PMD_PAGES - rw;
		unsigned long j;

		KUNIT_ASSERT_EQ(test, folio_test_large(page_folio(hmmk_page(ctx, start))),
				!i);

		HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, start, n,
						   HMM_PFN_REQ_FAULT,
						   MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
		for (j = 0; j < n; j++) {
			struct page *page = migrate_pfn_to_page(p.migrate.src[j]);

			KUNIT_EXPECT_TRUE_MSG(test, page && hmmk_dev_page(ctx->dev, page) &&
					      p.migrate.src[j] ==
					      hmmk_src_of(page, false),
					      "VMA %lu page %lu: %#lx", i, j,
					      p.migrate.src[j]);
		}
		hmmk_prep_restore(ctx, &p);
	}
	hmmk_expect_data(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * A CPU fault on the first page of our device private THP, mapped by a PMD,
 * whose migrate_to_ram() asks for that page alone with MIGRATE_VMA_FAULT:
 * the walk must split the folio the fault path holds locked and referenced
 * (fault_page), and drop the pin it took to split it, or the page cannot
 * migrate. The other pages stay on the device until touched; at the end
 * every device page is freed.
 */
static void hmm_migrate_device_thp_cpu_fault(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	unsigned long addr;

	addr = hmmk_device_thp(ctx, false);
	ctx->to_ram_flags = MIGRATE_VMA_FAULT | MIGRATE_VMA_SELECT_SYSTEM;
	ctx->to_ram_npages = 1;

	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr), hmmk_tag(ctx, addr));
	KUNIT_EXPECT_EQ(test, ctx->to_ram_cpages, 1);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_PRESENT);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE),
			HMMK_PMD_PAGES - 1);
	hmmk_expect_data(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * A CPU fault on a tail page of our device private THP mapped by PTEs (the
 * PMD split by an mprotect() that was undone, in one VMA again), whose
 * migrate_to_ram() takes along the 16 pages from the head, or the fault
 * page alone, plainly or with MIGRATE_VMA_FAULT. The walk splits the folio
 * the fault path holds locked: the lock moves to the fault page's new
 * folio. The head, now a folio of its own, must be locked like any other
 * page, and the fault page collected as the caller's: 7.2.8's collect
 * kept comparing with the old folio, so it left the fault page (SIGBUS)
 * and, from the head, collected the head without its lock (finalize then
 * unlocked it).
 */
struct hmm_to_ram_case {
	const char *desc;
	unsigned long flags;	/* migrate_to_ram()'s, beside DEVICE_PRIVATE */
	unsigned long npages;	/* the aligned block around the fault */
};

static_assert(offsetof(struct hmm_to_ram_case, desc) == 0);

static const struct hmm_to_ram_case hmm_to_ram_cases[] = {
	{ "plain, 16 pages from the head", 0, 16 },
	{ "plain, the fault page alone", 0, 1 },
	{ "MIGRATE_VMA_FAULT, 16 pages from the head",
	  MIGRATE_VMA_FAULT | MIGRATE_VMA_SELECT_SYSTEM, 16 },
};

static int hmm_to_ram_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_to_ram_cases,
				    ARRAY_SIZE(hmm_to_ram_cases), hmmk_desc);
	return 0;
}

static void hmm_migrate_device_pte_thp_cpu_fault(struct kunit *test)
{
	const struct hmm_to_ram_case *c = test->param_value;
	const unsigned long fault = 5, n = c->npages;
	struct hmmk *ctx = test->priv;
	unsigned long addr, first, i;
	struct vm_area_struct *vma;
	struct page *page;
	bool one_vma;

	addr = hmmk_device_thp(ctx, false);
	hmmk_mprotect(ctx, addr, 16, PROT_READ);
	hmmk_mprotect(ctx, addr, 16, PROT_READ | PROT_WRITE);
	mmap_read_lock(ctx->mm);
	vma = vma_lookup(ctx->mm, addr);
	one_vma = vma && vma->vm_end - addr >= PMD_SIZE;
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_TRUE_MSG(test, one_vma, "the VMAs did not merge again");
	KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE), HMMK_PMD_PAGES);
	page = hmmk_page(ctx, addr + fault * PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, page && folio_test_large(page_folio(page)));
	ctx->to_ram_flags = c->flags;
	ctx->to_ram_npages = n;
	first = ALIGN_DOWN(fault, n);	/* as hmmk_dev_migrate_to_ram() */

	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr + fault * PAGE_SIZE),
			hmmk_tag(ctx, addr + fault * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, ctx->to_ram_calls, 1);
	KUNIT_EXPECT_EQ(test, ctx->to_ram_cpages, n);
	KUNIT_EXPECT_EQ(test, ctx->to_ram_unlocked, 0);
	for (i = first; i < first + n; i++)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
				    HMMK_PTE_PRESENT, "page %lu", i);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE),
			HMMK_PMD_PAGES - n);
	hmmk_expect_data(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * Another driver's device private THP, mapped by a PMD: not ours, so without
 * a fault request it is neither prepared nor reported valid, whatever the
 * selection (HMM_PFN_ERROR, as for any non-present PMD nobody faults).
 */
static void hmm_migrate_foreign_device_thp(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_device_thp(ctx, true);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_DEVICE);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
					   HMMK_PMD_PAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; i < HMMK_PMD_PAGES; i += 31)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_ERROR, "page %lu", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_DEVICE);

	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
}

/*
 * Another driver's device THP whose migrate_to_ram() reports success but
 * leaves it on its device, every time. A fault on one of its pages is a
 * fault on the whole folio: migrate_vma_setup(MIGRATE_VMA_FAULT), best
 * effort, gives up on the THP after the tries of one page (three), where
 * faulting its 512 pages in turn made up to 1536 migrate_to_ram() calls.
 */
static void hmm_migrate_device_thp_refuses(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long addr;
	struct page *page;

	addr = hmmk_device_thp(ctx, true);
	page = hmmk_page(ctx, addr);
	KUNIT_ASSERT_NOT_NULL(test, page);
	ctx->to_ram_refuse = true;
	ctx->to_ram_calls = 0;

	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, addr,
					   HMMK_PMD_PAGES, HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_GT(test, ctx->to_ram_calls, 0);
	/* HMM_MIGRATE_FAULT_TRIES: the bound for one page */
	KUNIT_EXPECT_LE_MSG(test, ctx->to_ram_calls, 3,
			    "the THP was faulted page by page");
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE), HMMK_PMD_PAGES);
	KUNIT_EXPECT_PTR_EQ(test, hmmk_page(ctx, addr), page);
	KUNIT_EXPECT_EQ(test, hmmk_dev_pages_used(ctx->foreign),
			HMMK_PMD_PAGES);

	/*
	 * Not read back: our driver's migrate_to_ram() asks for single
	 * pages, and a device THP cannot be split under its own fault
	 */
	ctx->to_ram_refuse = false;
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->foreign), 0,
			    "device pages not freed: a reference leaked");
}

static struct kunit_case hmm_migrate_device_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_migrate_device_own, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_pte_not_selected, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_device_foreign, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_foreign_unlocked, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_device_refuses, hmmk_vias),
	KUNIT_CASE(hmm_migrate_device_cpu_fault),
	KUNIT_CASE(hmm_migrate_device_cpu_fault_foreign),
	KUNIT_CASE(hmm_migrate_device_cpu_fault_exclusive),
	KUNIT_CASE(hmm_migrate_device_fault_page_foreign),
	HMMK_CASE_PARAMS(hmm_migrate_device_thp, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_device_thp_rdonly, hmmk_vias),
	KUNIT_CASE(hmm_migrate_device_thp_cpu_fault),
	HMMK_CASE_PARAMS(hmm_migrate_device_pte_thp_cpu_fault, hmm_to_ram_cases),
	KUNIT_CASE(hmm_migrate_foreign_device_thp),
	KUNIT_CASE(hmm_migrate_device_thp_refuses),
	{}
};

static struct kunit_suite hmm_migrate_device_test_suite = {
	.name = "hmm_migrate_device",
	.init = hmmk_suite_init,
	.test_cases = hmm_migrate_device_test_cases,
};

kunit_test_suite(hmm_migrate_device_test_suite);
