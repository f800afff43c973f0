// SPDX-License-Identifier: GPL-2.0
/*
 * The hmm_migrate_contract suite: what the unified walk promises its
 * callers. Bad arguments, errors and rollback, -EBUSY and every retry loop
 * of Documentation/mm/hmm.rst, per-pfn requests, notifier pairing.
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

/* hmm_range_fault() with HMM_PFN_REQ_MIGRATE on [addr, + npages): @req too */
static void hmmk_prep_init(struct hmmk *ctx, struct hmmk_prep *p,
			   unsigned long addr, unsigned long npages,
			   unsigned long req, unsigned long select)
{
	p->via = VIA_HMM;
	hmmk_migrate_init(ctx, &p->migrate, addr, npages, select);
	hmmk_range_init(ctx, &p->range, addr, npages,
			req | HMM_PFN_REQ_MIGRATE);
	p->range.migrate = &p->migrate;
}

/*
 * A shmem file of two written pages mapped over @npages: SIGBUS past its
 * end. The mapping is new: no page table below its end yet.
 */
static unsigned long hmmk_map_short_file(struct hmmk *ctx,
					 unsigned long npages)
{
	struct file *file;
	unsigned long addr;

	file = shmem_file_setup("hmmk-short", 2 * PAGE_SIZE,
				mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(ctx->test, IS_ERR(file));
	addr = kunit_vm_mmap(ctx->test, file, 0, npages * PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	fput(file);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	hmmk_write(ctx, addr, 2);
	return addr;
}

/*
 * hmm_range_fault(): a fault that fails after pages were prepared (SIGBUS
 * past the end of a file): -EFAULT, and everything is put back.
 */
static void hmm_migrate_rollback_sigbus(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr;

	addr = hmmk_map_short_file(ctx, NPAGES);
	snap = hmmk_snapshot(ctx, addr, 2);

	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), -EFAULT);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_no_migrate_out(ctx, &p);
}

/*
 * migrate_vma_setup() with MIGRATE_VMA_FAULT is best effort: pages that
 * cannot be faulted in (past the end of a file, a guard region) are left as
 * they are and not collected; the others are.
 */
static void hmm_migrate_vma_fault_best_effort(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_short_file(ctx, NPAGES);
	snap = hmmk_snapshot(ctx, addr, 2);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 2);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    i < 2 ? hmmk_src_of(snap->p[i].page, true) : 0,
				    "page %lu", i);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);

	/*
	 * Past the end of a file, over PMDs with no page table: the faults
	 * of the hole fail, none makes a table, and that is no reason to
	 * report -EBUSY (the caller would retry for ever)
	 */
	addr = hmmk_map_short_file(ctx, 2 * HMMK_PMD_PAGES);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, addr + PMD_SIZE,
					   HMMK_PMD_PAGES, HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	hmmk_prep_restore(ctx, &p);

	/* A guard region in the middle of anonymous memory */
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_guard(ctx, addr + 3 * PAGE_SIZE, 1);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + 3 * PAGE_SIZE),
			HMMK_PTE_OTHER);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
	KUNIT_EXPECT_EQ(test, p.migrate.src[3], 0);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + 3 * PAGE_SIZE),
			HMMK_PTE_OTHER);

	/* hmm_range_fault() with HMM_PFN_REQ_FAULT: all or nothing */
	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), -EFAULT);
	hmmk_expect_no_migrate_out(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), 0);

	/* Even when its migrate_vma carries MIGRATE_VMA_FAULT */
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_FAULT);
	HMMK_EXPECT_RET(test, hmmk_walk_once(ctx, &p.range, &p.migrate),
			-EFAULT);
	hmmk_expect_no_migrate_out(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), 0);
	hmmk_expect_balanced(ctx);
}

/*
 * MIGRATE_VMA_FAULT without MIGRATE_VMA_SELECT_SYSTEM faults nothing: a
 * fault only brings in system pages, which such a call does not take. File
 * pages stay unmapped, another driver's pages stay in its memory.
 */
static void hmm_migrate_vma_fault_select(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long file, addr;

	hmmk_need_device(ctx);
	file = hmmk_map_shmem(ctx, NPAGES, true);
	hmmk_write(ctx, file, NPAGES);
	hmmk_dontneed(ctx, file, NPAGES);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, file, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE),
			0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, file, NPAGES, HMMK_PTE_NONE),
			NPAGES);
	hmmk_prep_restore(ctx, &p);

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->foreign, addr, NPAGES, false);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE),
			0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_DEVICE), NPAGES);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
}

/* The same with -EPERM: a write asked for in a read-only VMA */
static void hmm_migrate_rollback_eperm(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	struct file *file;
	unsigned long rw, addr;

	/* Read-only file pages, written through another mapping */
	file = shmem_file_setup("hmmk-ro", NPAGES * PAGE_SIZE, mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	rw = kunit_vm_mmap(test, file, 0, NPAGES * PAGE_SIZE,
			   PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	addr = kunit_vm_mmap(test, file, 0, NPAGES * PAGE_SIZE, PROT_READ,
			     MAP_SHARED, 0);
	fput(file);
	HMMK_ASSERT_ADDR(test, rw);
	HMMK_ASSERT_ADDR(test, addr);
	hmmk_write(ctx, rw, NPAGES);
	hmmk_read(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);
	p.range.pfn_flags_mask = HMM_PFN_REQ_WRITE;
	p.range.hmm_pfns[NPAGES - 1] = HMM_PFN_REQ_WRITE;
	p.via = VIA_HMM;
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &p.range), -EPERM);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_no_migrate_out(ctx, &p);
}

/*
 * A PMD with no page table, then a PMD with a guard marker. Per-pfn
 * requests, every other page of the first PMD asking for migration and
 * none for a fault: only the pages that ask are prepared (as holes). The
 * same with a fault asked for at the guard marker: -EFAULT after the holes
 * were prepared, and the requests handed back as they were given. Every
 * page asking for a fault and migration: the holes need no fault and are
 * prepared, the guard marker fails the walk, and no page is left reported
 * HMM_PFN_MIGRATE.
 */
static void hmm_migrate_no_table_then_error(struct kunit *test)
{
	unsigned long n = 2 * HMMK_PMD_PAGES, addr, guard, i;
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long *req;
	int fault;

	addr = hmmk_map_thp(ctx, 2);
	guard = addr + PMD_SIZE + 3 * PAGE_SIZE;
	hmmk_guard(ctx, guard, 1);
	KUNIT_ASSERT_FALSE(test, hmmk_pte_table(ctx, addr));
	KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_TRUE(test, hmmk_pte_table(ctx, guard));
	req = kunit_kcalloc(test, n, sizeof(*req), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, req);

	for (fault = 0; fault < 2; fault++) {
		hmmk_prep_init(ctx, &p, addr, n, 0, MIGRATE_VMA_SELECT_SYSTEM);
		p.range.default_flags = 0;
		p.range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
		for (i = 0; i < n; i++)
			req[i] = i < HMMK_PMD_PAGES && !(i % 2) ?
				 HMM_PFN_REQ_MIGRATE : 0;
		if (fault)
			req[(guard - addr) >> PAGE_SHIFT] = HMM_PFN_REQ_FAULT;
		memcpy(p.range.hmm_pfns, req, n * sizeof(*req));
		if (fault) {
			HMMK_EXPECT_RET(test, hmmk_walk_once(ctx, &p.range,
							     &p.migrate),
					-EFAULT);
			KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
			KUNIT_EXPECT_MEMEQ_MSG(test, p.range.hmm_pfns, req,
					       n * sizeof(*req),
					       "not the requests as given");
			break;
		}
		HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &p.range,
						     &p.migrate), 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, HMMK_PMD_PAGES / 2);
		for (i = 0; i < HMMK_PMD_PAGES; i++) {
			KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
					    i % 2 ? 0 : HMM_PFN_MIGRATE,
					    "page %lu", i);
			KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
					    i % 2 ? 0 : MIGRATE_PFN_MIGRATE,
					    "page %lu", i);
		}
		hmmk_prep_restore(ctx, &p);
	}

	hmmk_prep_init(ctx, &p, addr, n, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_EXPECT_RET(test, hmmk_walk_once(ctx, &p.range, &p.migrate),
			-EFAULT);
	hmmk_expect_no_migrate_out(ctx, &p);

	/*
	 * Every page of the first PMD asking for migration per pfn, with
	 * MIGRATE_VMA_SELECT_COMPOUND: the PMD is prepared as one unit
	 */
	if (thp_migration_supported()) {
		hmmk_prep_init(ctx, &p, addr, HMMK_PMD_PAGES, 0,
			       MIGRATE_VMA_SELECT_SYSTEM |
			       MIGRATE_VMA_SELECT_COMPOUND);
		p.range.default_flags = 0;
		p.range.pfn_flags_mask = HMM_PFN_REQ_MIGRATE;
		for (i = 0; i < HMMK_PMD_PAGES; i++)
			p.range.hmm_pfns[i] = HMM_PFN_REQ_MIGRATE;
		HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &p.range,
						     &p.migrate), 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
		KUNIT_EXPECT_EQ(test, p.migrate.src[0],
				MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND);
		hmmk_prep_restore(ctx, &p);
	}

	KUNIT_EXPECT_FALSE(test, hmmk_pte_table(ctx, addr));
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, n);
}

struct hmm_bad_case {
	const char *desc;
	long start;		/* pages from the mapping */
	long npages;
	long offset;		/* bytes added to start */
	long end_offset;	/* bytes added to end */
	bool no_migrate;
	bool other_owner;
	bool two_vmas;
	bool vma_of_end;	/* migrate->vma: the VMA the range ends in */
	bool no_src;
	bool no_dst;
	bool pfns_are_src;	/* range->hmm_pfns == migrate->src */
	bool pfnmap;		/* a VM_PFNMAP VMA */
	bool system_fault_page;	/* migrate->fault_page not device private */
	bool unlocked_fault_page; /* a device private fault_page, not locked */
	bool setup_too;		/* migrate_vma_setup() refuses it as well */
};

static_assert(offsetof(struct hmm_bad_case, desc) == 0);

static const struct hmm_bad_case hmm_bad_cases[] = {
	{ "no range->migrate", 0, NPAGES, 0, .no_migrate = true },
	{ "unaligned start", 0, NPAGES, 8 },
	{ "empty range", 0, 0, .setup_too = true },
	{ "beyond the VMA", 2, NPAGES, .setup_too = true },
	{ "two VMAs", 0, NPAGES, .two_vmas = true, .setup_too = true },
	{ "starts before migrate->vma", 0, NPAGES, .two_vmas = true,
	  .vma_of_end = true, .setup_too = true },
	{ "owner differs from pgmap_owner", 0, NPAGES, .other_owner = true },
	{ "unaligned end", 0, NPAGES, .end_offset = -8 },
	{ "no src array", 0, NPAGES, .no_src = true, .setup_too = true },
	{ "no dst array", 0, NPAGES, .no_dst = true, .setup_too = true },
	{ "hmm_pfns is the src array", 0, NPAGES, .pfns_are_src = true },
	{ "VM_PFNMAP VMA", 0, NPAGES, .pfnmap = true, .setup_too = true },
	{ "fault_page is a system page", 0, NPAGES,
	  .system_fault_page = true, .setup_too = true },
	{ "fault_page is not locked", 0, NPAGES, .unlocked_fault_page = true,
	  .setup_too = true },
};

static int hmm_bad_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_bad_cases,
				    ARRAY_SIZE(hmm_bad_cases), hmmk_desc);
	return 0;
}

/*
 * Per-pfn requests across a second pass, where a page's first output does
 * not say what it asked: page 0 is prepared; page 2, another driver's page,
 * asks for migration without a fault (first output: not valid, not
 * prepared); page 3, the same, asks for a fault too: its fault must wait
 * (that driver's migrate_to_ram()), page 0 is put back, and the fault
 * brings pages 2 and 3 back to RAM. The pass that prepares again must see
 * that page 2 asked for migration.
 */
static void hmm_migrate_per_pfn_requests_kept(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct migrate_vma migrate;
	struct hmm_range range;
	unsigned long map, addr, i;

	hmmk_need_device(ctx);
	map = hmmk_map_anon(ctx, 2 * NPAGES);
	addr = ALIGN(map, NPAGES * PAGE_SIZE);	/* migrate_to_ram() aligns */
	hmmk_write(ctx, map, 2 * NPAGES);
	hmmk_to_device(ctx, ctx->foreign, addr + 2 * PAGE_SIZE, 2, false);
	ctx->to_ram_npages = 2;
	hmmk_migrate_init(ctx, &migrate, addr, NPAGES,
			  MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &range, addr, NPAGES, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
	range.migrate = &migrate;
	range.hmm_pfns[0] = HMM_PFN_REQ_MIGRATE;
	range.hmm_pfns[2] = HMM_PFN_REQ_MIGRATE;
	range.hmm_pfns[3] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;

	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 3);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, !!(migrate.src[i] &
					     MIGRATE_PFN_MIGRATE),
				    i == 0 || i == 2 || i == 3, "page %lu", i);
	hmmk_setup_restore(ctx, &range, &migrate);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, map, 2 * NPAGES);
}

/*
 * hmm_range_fault() with MIGRATE_VMA_FAULT in migrate->flags (best effort
 * for per-pfn fault requests): the fault request at a guard marker is
 * dropped and the walk goes on, then a write request in the read-only VMA
 * fails the call with -EPERM. The requests come back as they were given,
 * the dropped one included, so that the caller's retry asks for the same
 * faults; asked again without the write, every other page is prepared.
 */
static void hmm_migrate_best_effort_then_error(struct kunit *test)
{
	const unsigned long guard = 1, write = 5;
	struct hmmk *ctx = test->priv;
	unsigned long req[NPAGES], addr, i;
	struct hmmk_prep p;
	int pass;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_guard(ctx, addr + guard * PAGE_SIZE, 1);
	hmmk_mprotect(ctx, addr, NPAGES, PROT_READ);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + guard * PAGE_SIZE),
			HMMK_PTE_OTHER);
	for (i = 0; i < NPAGES; i++)
		req[i] = HMM_PFN_REQ_MIGRATE;
	req[guard] |= HMM_PFN_REQ_FAULT;
	req[write] |= HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;

	for (pass = 0; pass < 2; pass++) {
		hmmk_prep_init(ctx, &p, addr, NPAGES, 0,
			       MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_FAULT);
		p.range.default_flags = 0;
		p.range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE |
					 HMM_PFN_REQ_MIGRATE;
		memcpy(p.range.hmm_pfns, req, sizeof(req));
		if (pass) {
			p.range.hmm_pfns[write] &= ~HMM_PFN_REQ_WRITE;
			break;
		}
		HMMK_EXPECT_RET(test, hmmk_walk_once(ctx, &p.range,
						     &p.migrate), -EPERM);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
		KUNIT_EXPECT_MEMEQ_MSG(test, p.range.hmm_pfns, req, sizeof(req),
				       "not the requests as given");
		KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
						     HMMK_PTE_MIGRATION), 0);
	}
	HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &p.range, &p.migrate), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, !!(p.migrate.src[i] & MIGRATE_PFN_MIGRATE),
				    i != guard, "page %lu", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + guard * PAGE_SIZE),
			HMMK_PTE_OTHER);
	hmmk_expect_data(ctx, addr, guard);
	hmmk_expect_data(ctx, addr + (guard + 1) * PAGE_SIZE,
			 NPAGES - guard - 1);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
}

/* Refused with -EINVAL before any page is touched */
static void hmm_migrate_bad_args(struct kunit *test)
{
	const struct hmm_bad_case *c = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, start;

	if (c->pfnmap) {
		addr = hmmk_map_pfnmap(ctx, NPAGES);
	} else {
		addr = hmmk_map_anon(ctx, NPAGES);
		hmmk_write(ctx, addr, NPAGES);
	}
	if (c->two_vmas)
		hmmk_map_fixed(ctx, addr + PAGE_SIZE * NPAGES / 2, NPAGES / 2,
			       PROT_READ | PROT_WRITE | PROT_EXEC);
	if (c->unlocked_fault_page) {
		hmmk_need_device(ctx);
		hmmk_to_device(ctx, ctx->dev, addr, 1, false);
		KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_DEVICE);
	}
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	start = addr + c->start * PAGE_SIZE + c->offset;
	hmmk_migrate_init(ctx, &p.migrate, start, NPAGES,
			  MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &p.range, start, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
	p.range.end = start + c->npages * PAGE_SIZE + c->end_offset;
	p.range.migrate = c->no_migrate ? NULL : &p.migrate;
	if (c->other_owner)
		p.range.dev_private_owner = &p;
	if (c->no_src)
		p.migrate.src = NULL;
	if (c->no_dst)
		p.migrate.dst = NULL;
	if (c->pfns_are_src)
		p.range.hmm_pfns = p.migrate.src;
	/* Locked, as a fault path holds it: refused for what it is */
	if (c->system_fault_page) {
		p.migrate.fault_page = hmmk_page(ctx, addr);
		lock_page(p.migrate.fault_page);
	}
	/* A fault path's migrate_to_ram() holds its page locked: this one not */
	if (c->unlocked_fault_page)
		p.migrate.fault_page = hmmk_page(ctx, addr);

	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &p.range), -EINVAL);

	/*
	 * migrate_vma_setup(MIGRATE_VMA_FAULT) on the same arguments, where
	 * they are wrong for it too: the VMA of the range's start, the range,
	 * the arrays and the fault_page of the row. And with no VMA at all.
	 */
	if (c->setup_too) {
		int no_vma, ret, plain;

		p.migrate.flags |= MIGRATE_VMA_FAULT;
		p.migrate.end = p.range.end;
		mmap_read_lock(ctx->mm);
		no_vma = migrate_vma_setup(&p.migrate);
		p.migrate.vma = vma_lookup(ctx->mm, c->vma_of_end ?
					   p.range.end - 1 : addr);
		ret = migrate_vma_setup(&p.migrate);
		/* And without MIGRATE_VMA_FAULT: its own checks */
		p.migrate.flags &= ~MIGRATE_VMA_FAULT;
		plain = migrate_vma_setup(&p.migrate);
		mmap_read_unlock(ctx->mm);
		HMMK_EXPECT_RET(test, no_vma, -EINVAL);
		HMMK_EXPECT_RET(test, ret, -EINVAL);
		HMMK_EXPECT_RET(test, plain, -EINVAL);
	}
	if (c->system_fault_page)
		unlock_page(p.migrate.fault_page);
	hmmk_expect_restored(ctx, snap);
}

/* Without a notifier the range's migrate->vma names the mm */
static void hmm_migrate_null_notifier(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, other;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);
	p.range.notifier = NULL;

	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_EXPECT_RET(test, ret, -EINVAL);
	hmmk_expect_restored(ctx, snap);

	/* Another VMA than the range's (a file mapping: never merged) */
	other = hmmk_map_shmem(ctx, 1, false);
	mmap_read_lock(ctx->mm);
	p.migrate.vma = vma_lookup(ctx->mm, other);
	ret = hmm_range_fault(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_EXPECT_RET(test, ret, -EINVAL);
	hmmk_expect_restored(ctx, snap);

	mmap_read_lock(ctx->mm);
	p.migrate.vma = vma_lookup(ctx->mm, addr);
	ret = hmm_range_fault(&p.range);
	if (!ret)
		migrate_hmm_range_setup(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/* A stale notifier sequence: -EBUSY with nothing prepared, then a retry */
static void hmm_migrate_ebusy(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);
	p.range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
	hmmk_dontneed(ctx, addr, 1);
	hmmk_write(ctx, addr, 1);
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_EXPECT_RET(test, ret, -EBUSY);
	hmmk_expect_restored(ctx, snap);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/* One try of the retry loop of hmm.rst, keeping the same structs */
static int hmmk_try(struct hmmk *ctx, struct hmmk_prep *p, bool setup)
{
	int ret;

	p->range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p->range);
	if (!ret)
		hmmk_expect_walk_prepared(ctx, &p->range, &p->migrate);
	if (!ret && setup)
		migrate_hmm_range_setup(&p->range);
	mmap_read_unlock(ctx->mm);
	return ret;
}

/* The tries of hmm.rst's loop after an -EBUSY, the same structs each time */
static int hmmk_retry(struct hmmk *ctx, struct hmmk_prep *p)
{
	int ret, tries = 16;

	do {
		ret = hmmk_try(ctx, p, true);
	} while (ret == -EBUSY && --tries);
	return ret;
}

/*
 * The retry loop with the range gone between the tries: -EBUSY, the range
 * is unmapped, and the retry with the same struct migrate_vma fails with
 * -EFAULT, touching nothing (before, it walked with the stale VMA). Mapped
 * again, a new VMA at the same address, the next retry prepares its pages.
 */
static void hmm_migrate_retry_unmapped(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct vm_area_struct *vma;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);

	p.range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
	hmmk_dontneed(ctx, addr, 1);
	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, -EBUSY);
	KUNIT_EXPECT_NULL(test, p.migrate.vma);

	hmmk_unmap(ctx, addr, NPAGES);
	HMMK_EXPECT_RET(test, hmmk_try(ctx, &p, false), -EFAULT);
	KUNIT_EXPECT_NULL(test, p.migrate.vma);
	KUNIT_EXPECT_EQ(test, p.migrate.start, addr);
	hmmk_expect_no_migrate_out(ctx, &p);

	hmmk_map_fixed(ctx, addr, NPAGES, PROT_READ | PROT_WRITE);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	HMMK_ASSERT_RET(test, hmmk_try(ctx, &p, true), 0);
	mmap_read_lock(ctx->mm);
	vma = vma_lookup(ctx->mm, addr);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_PTR_EQ(test, p.migrate.vma, vma);
	hmmk_expect_prepared(ctx, &p.migrate, snap);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/*
 * Another thread that invalidates a page and, inside that invalidation,
 * waits for it, as UFFDIO_MOVE does (move_pages_ptes() meets a migration
 * entry between invalidate_range_start() and _end()).
 */
struct hmmk_invalidator {
	struct hmmk *ctx;
	unsigned long addr;
	struct completion started;
	struct completion done;
};

static int hmmk_invalidator_fn(void *data)
{
	struct hmmk_invalidator *inv = data;
	struct mm_struct *mm = inv->ctx->mm;
	struct mmu_notifier_range range;
	struct vm_area_struct *vma;

	kthread_use_mm(mm);
	mmap_read_lock(mm);
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, inv->addr,
				inv->addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	complete(&inv->started);
	vma = vma_lookup(mm, inv->addr);
	if (vma)	/* waits in migration_entry_wait() */
		handle_mm_fault(vma, inv->addr, FAULT_FLAG_REMOTE, NULL);
	mmu_notifier_invalidate_range_end(&range);
	mmap_read_unlock(mm);
	kthread_unuse_mm(mm);
	mmput(mm);
	complete(&inv->done);
	return 0;
}

struct hmmk_reader {
	struct hmmk *ctx;
	struct completion done;
};

static int hmmk_reader_fn(void *data)
{
	struct hmmk_reader *rd = data;

	mmu_interval_read_begin(&rd->ctx->mni);
	complete(&rd->done);
	return 0;
}

/*
 * The retry after a success, the range invalidated by a thread that waits
 * for a prepared page inside its invalidation. mmu_interval_read_begin()
 * waits for that invalidation to end, so it must not be called while pages
 * are prepared (before: hmm.rst said to, a deadlock). As hmm.rst now says,
 * the driver calls hmm_range_fault() again with the same sequence: it puts
 * the pages back, which lets the other thread go on, and returns -EBUSY;
 * then the loop starts over.
 */
static void hmm_migrate_retry_invalidated(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_invalidator *inv;
	struct task_struct *task;
	struct hmmk_reader *rd;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr;
	bool inv_done, rd_done;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	/* Freed only once both threads are done: a hang must not free them */
	inv = kzalloc_obj(*inv, GFP_KERNEL);
	rd = kzalloc_obj(*rd, GFP_KERNEL);
	if (!inv || !rd) {
		kfree(inv);
		kfree(rd);
		KUNIT_FAIL(test, "no memory");
		return;
	}
	inv->ctx = ctx;
	rd->ctx = ctx;
	inv->addr = addr;
	init_completion(&inv->started);
	init_completion(&inv->done);
	init_completion(&rd->done);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);

	p.range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p.range);
	if (ret) {
		mmap_read_unlock(ctx->mm);
		kfree(inv);
		kfree(rd);
		KUNIT_FAIL(test, "the first try returned %pe", ERR_PTR(ret));
		return;
	}
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);

	mmget(ctx->mm);		/* the invalidator's, put when it ends */
	task = kthread_run(hmmk_invalidator_fn, inv, "hmmk-invalidator");
	if (IS_ERR(task)) {
		mmput(ctx->mm);
		complete(&inv->started);
		complete(&inv->done);
	}
	wait_for_completion(&inv->started);
	KUNIT_EXPECT_TRUE(test, mmu_interval_read_retry(&ctx->mni,
							p.range.notifier_seq));
	/* What mmu_interval_read_begin() would do now: wait */
	task = kthread_run(hmmk_reader_fn, rd, "hmmk-reader");
	if (IS_ERR(task))
		complete(&rd->done);
	KUNIT_EXPECT_FALSE_MSG(test, wait_for_completion_timeout(&rd->done,
								 msecs_to_jiffies(200)),
			       "mmu_interval_read_begin() returned during an invalidation");

	/* The same call again, the same sequence: puts back, -EBUSY */
	ret = hmm_range_fault(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_EXPECT_RET(test, ret, -EBUSY);
	hmmk_expect_no_migrate_out(ctx, &p);
	inv_done = wait_for_completion_timeout(&inv->done, 10 * HZ);
	rd_done = wait_for_completion_timeout(&rd->done, 10 * HZ);
	KUNIT_EXPECT_TRUE_MSG(test, inv_done,
			      "the invalidating thread still waits for a page");
	KUNIT_EXPECT_TRUE_MSG(test, rd_done,
			      "mmu_interval_read_begin() still waits");
	if (inv_done && rd_done) {
		kfree(inv);
		kfree(rd);
	} else {
		return;
	}

	/* Then as after any -EBUSY */
	ret = hmmk_retry(ctx, &p);
	HMMK_ASSERT_RET(test, ret, 0);
	hmmk_expect_prepared(ctx, &p.migrate, snap);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/*
 * The same struct hmm_range and struct migrate_vma for one chunk after
 * another, as a driver moves a large range: each chunk prepared, set up and
 * finalized, then the next. A call after a finished migration must not take
 * its pages for ones to put back, and a retry after a success in the next
 * chunk must put back that chunk's pages.
 */
static void hmm_migrate_reuse_chunks(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, chunk, i;
	int ret, again;

	addr = hmmk_map_anon(ctx, 2 * NPAGES);
	hmmk_write(ctx, addr, 2 * NPAGES);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);
	for (chunk = addr; chunk < addr + 2 * NPAGES * PAGE_SIZE;
	     chunk += NPAGES * PAGE_SIZE) {
		snap = hmmk_snapshot(ctx, chunk, NPAGES);
		p.range.start = chunk;
		p.range.end = chunk + NPAGES * PAGE_SIZE;
		p.range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
		mmap_read_lock(ctx->mm);
		/* The second time, a retry after a success */
		for (again = 0, ret = 0; again < 2 && !ret; again++) {
			for (i = 0; i < NPAGES; i++)
				p.range.hmm_pfns[i] = 0;
			ret = hmm_range_fault(&p.range);
			if (!ret)
				hmmk_expect_walk_prepared(ctx, &p.range,
							  &p.migrate);
		}
		if (!ret)
			migrate_hmm_range_setup(&p.range);
		mmap_read_unlock(ctx->mm);
		HMMK_ASSERT_RET(test, ret, 0);
		KUNIT_EXPECT_EQ(test, p.migrate.start, chunk);
		hmmk_expect_prepared(ctx, &p.migrate, snap);
		hmmk_prep_restore(ctx, &p);
		hmmk_expect_restored(ctx, snap);
	}
	hmmk_expect_data(ctx, addr, 2 * NPAGES);
	hmmk_expect_unleaked(ctx, addr, 2 * NPAGES);
	hmmk_unmap(ctx, addr, 2 * NPAGES);
}

/*
 * HMM_PFN_REQ_WRITE in a read-only anonymous VMA with holes and zero pages,
 * then in one with no page table: -EPERM as hmm_range_fault() alone
 * returns, nothing prepared, nothing changed. A hole needs no fault, but
 * may not be filled writable either.
 */
static void hmm_migrate_write_rdonly(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmm_range ref;
	struct hmmk_prep p;
	unsigned long addr;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_map_fixed(ctx, addr, NPAGES, PROT_READ);
	hmmk_read(ctx, addr, NPAGES / 2);

	hmmk_range_init(ctx, &ref, addr, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
	ret = hmmk_fault(ctx, &ref);
	KUNIT_EXPECT_EQ(test, ret, -EPERM);
	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM), ret);
	hmmk_expect_no_migrate_out(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES / 2,
					     HMMK_PTE_ZERO), NPAGES / 2);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr + NPAGES / 2 * PAGE_SIZE,
					     NPAGES / 2, HMMK_PTE_NONE),
			NPAGES / 2);
	hmmk_expect_balanced(ctx);

	/* The same where no page table maps the range: no table is made */
	addr = ALIGN(hmmk_map_anon(ctx, 2 * HMMK_PMD_PAGES), PMD_SIZE);
	hmmk_map_fixed(ctx, addr, NPAGES, PROT_READ);
	KUNIT_ASSERT_FALSE_MSG(test, hmmk_pte_table(ctx, addr),
			       "the shape was not built: a page table maps the range");
	hmmk_range_init(ctx, &ref, addr, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &ref), -EPERM);
	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM), -EPERM);
	hmmk_expect_no_migrate_out(ctx, &p);
	KUNIT_EXPECT_FALSE_MSG(test, hmmk_pte_table(ctx, addr),
			       "a page table was made");
	hmmk_expect_balanced(ctx);
}

/* How the mm changes between an -EBUSY try and the retry */
enum hmmk_change {
	CHANGE_DONTNEED,	/* MADV_DONTNEED of the whole range */
	CHANGE_REMAP_RDONLY,	/* munmap, mapped again read-only */
	CHANGE_SPLIT,		/* MADV_DONTNEED of one page of the THP */
	CHANGE_COLLAPSE,	/* MADV_COLLAPSE of a split THP */
	CHANGE_NUMA,		/* NUMA hinting PTEs (change_prot_numa()) */
	CHANGE_TO_DEVICE,	/* eight pages migrated to our device */
};

struct hmm_change_case {
	const char *desc;
	enum hmmk_change change;
};

static_assert(offsetof(struct hmm_change_case, desc) == 0);

static const struct hmm_change_case hmm_change_cases[] = {
	{ "MADV_DONTNEED", CHANGE_DONTNEED },
	{ "remapped read-only", CHANGE_REMAP_RDONLY },
	{ "THP split", CHANGE_SPLIT },
	{ "THP collapsed", CHANGE_COLLAPSE },
	{ "NUMA hinting", CHANGE_NUMA },
	{ "moved to the device", CHANGE_TO_DEVICE },
};

static int hmm_change_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_change_cases,
				    ARRAY_SIZE(hmm_change_cases), hmmk_desc);
	return 0;
}

#define SPLIT_PAGE	5	/* the page whose MADV_DONTNEED splits the THP */

/*
 * The retry loop of hmm.rst with the mm changed between the tries: the
 * change invalidates the range, the try returns -EBUSY, and the retries
 * with the same structs prepare the range as it now is. Each success is
 * checked before the setup (hmmk_try()); after the restore nothing is
 * left behind and every page holds what the change left there.
 */
static void hmm_migrate_retry_changed(struct kunit *test)
{
	const struct hmm_change_case *c = test->param_value;
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM;
	const unsigned long npages = HMMK_PMD_PAGES;
	struct hmmk *ctx = test->priv;
	unsigned long addr, i, seq;
	struct hmmk_prep p;
	int ret;
	bool thp = c->change == CHANGE_SPLIT || c->change == CHANGE_COLLAPSE;

	if (thp)
		hmmk_need_thp(test);
	if (c->change == CHANGE_NUMA)
		HMMK_SKIP_UNLESS(test, IS_ENABLED(CONFIG_NUMA_BALANCING),
				 "CONFIG_NUMA_BALANCING");
	if (c->change == CHANGE_TO_DEVICE) {
		hmmk_need_device(ctx);
		select |= MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	}
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, npages);
	if (thp)
		KUNIT_ASSERT_TRUE_MSG(test, hmmk_pmd_mapped(ctx, addr),
				      "the range is not one THP to start with");
	if (c->change == CHANGE_COLLAPSE) {
		hmmk_dontneed(ctx, addr + SPLIT_PAGE * PAGE_SIZE, 1);
		KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	}
	hmmk_prep_init(ctx, &p, addr, npages, HMM_PFN_REQ_FAULT, select);

	/* The driver's first try begins; the mm changes under it */
	seq = mmu_interval_read_begin(&ctx->mni);
	switch (c->change) {
	case CHANGE_DONTNEED:
		hmmk_dontneed(ctx, addr, npages);
		break;
	case CHANGE_REMAP_RDONLY:
		hmmk_unmap(ctx, addr, npages);
		hmmk_map_fixed(ctx, addr, npages, PROT_READ);
		break;
	case CHANGE_SPLIT:
		hmmk_dontneed(ctx, addr + SPLIT_PAGE * PAGE_SIZE, 1);
		KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
		break;
	case CHANGE_COLLAPSE:
		KUNIT_ASSERT_EQ(test, do_madvise(ctx->mm, addr, PMD_SIZE,
						 MADV_COLLAPSE), 0);
		KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
		break;
	case CHANGE_NUMA:
		KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, npages), npages);
		break;
	case CHANGE_TO_DEVICE:
		hmmk_to_device(ctx, ctx->dev, addr, NPAGES, false);
		KUNIT_ASSERT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
						     HMMK_PTE_DEVICE), NPAGES);
		break;
	}
	p.range.notifier_seq = seq;
	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p.range);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, -EBUSY);
	hmmk_expect_no_migrate_out(ctx, &p);

	ret = hmmk_retry(ctx, &p);
	HMMK_ASSERT_RET(test, ret, 0);
	mmap_read_lock(ctx->mm);
	KUNIT_EXPECT_PTR_EQ(test, p.migrate.vma, vma_lookup(ctx->mm, addr));
	mmap_read_unlock(ctx->mm);
	for (i = 0; i < npages; i++)
		KUNIT_EXPECT_TRUE_MSG(test, p.migrate.src[i] & MIGRATE_PFN_MIGRATE ||
				      (i && (p.migrate.src[0] & MIGRATE_PFN_COMPOUND)),
				      "page %lu not prepared", i);
	hmmk_prep_restore(ctx, &p);

	hmmk_expect_unleaked(ctx, addr, npages);
	hmmk_expect_balanced(ctx);
	for (i = 0; i < npages; i++) {
		bool zeroed = c->change == CHANGE_DONTNEED ||
			      c->change == CHANGE_REMAP_RDONLY ||
			      (thp && i == SPLIT_PAGE);

		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    zeroed ? 0 : hmmk_tag(ctx, addr + i * PAGE_SIZE),
				    "page %lu", i);
	}
	hmmk_unmap(ctx, addr, npages);
}

/*
 * Called again after a success, before migrate_hmm_range_setup(), with the
 * same sequence (nothing changed here): the second call puts back what the
 * first prepared and prepares it again, the mmap lock held throughout as
 * hmm.rst asks. It must not wait for the folio locks the first call holds
 * (before: a hang).
 */
static void hmm_migrate_retry_after_success(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, seq;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);

	/* The mmap lock is held from the first call to the setup */
	seq = mmu_interval_read_begin(&ctx->mni);
	p.range.notifier_seq = seq;
	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(&p.range);
	if (!ret) {
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
		hmmk_expect_walk_prepared(ctx, &p.range, &p.migrate);
		hmmk_range_init(ctx, &p.range, addr, NPAGES,
				HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
		p.range.migrate = &p.migrate;
		p.range.notifier_seq = seq;
		ret = hmm_range_fault(&p.range);
		if (!ret)
			migrate_hmm_range_setup(&p.range);
	}
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);
	hmmk_expect_prepared(ctx, &p.migrate, snap);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/*
 * migrate_hmm_range_setup() called a second time after one successful
 * walk warns and changes nothing: the pages stay prepared, src and cpages
 * as the first call left them. Before, it isolated the isolated pages
 * again, failed, and put them back (unlocked, reference dropped) under a
 * caller that goes on to migrate and finalize them.
 */
static void hmm_migrate_setup_twice(struct kunit *test)
{
	struct kunit_suppressed_warning *w;
	struct hmmk *ctx = test->priv;
	unsigned long addr, cpages, *src;
	struct hmmk_snap *snap;
	struct hmmk_prep p;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_ASSERT_EQ(test, p.migrate.cpages, NPAGES);
	cpages = p.migrate.cpages;
	src = kunit_kmalloc_array(test, NPAGES, sizeof(*src), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	memcpy(src, p.migrate.src, NPAGES * sizeof(*src));

	w = kunit_start_suppress_warning(test);
	mmap_read_lock(ctx->mm);
	migrate_hmm_range_setup(&p.range);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_EQ_MSG(test, kunit_suppressed_warning_count(w), 1,
			    "the second setup did not warn");
	kunit_end_suppress_warning(test, w);

	KUNIT_EXPECT_EQ(test, p.migrate.cpages, cpages);
	KUNIT_EXPECT_MEMEQ_MSG(test, p.migrate.src, src,
			       NPAGES * sizeof(*src),
			       "the second setup changed src");
	hmmk_expect_prepared(ctx, &p.migrate, snap);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

static void hmmk_set_reqs(unsigned long *hmm_pfns, unsigned long n,
			  unsigned long req)
{
	while (n--)
		hmm_pfns[n] = req;
}

/* How a call again after a success fails */
enum hmm_again {
	AGAIN_STALE,		/* another range of the interval changed */
	AGAIN_PAST_VMA,		/* the range one page longer, past its VMA */
	AGAIN_NO_VMA,		/* the range moved where nothing is mapped */
	AGAIN_UNALIGNED,	/* the range half a page shorter */
	AGAIN_OWNER,		/* another dev_private_owner than migrate's */
};

struct hmm_again_case {
	const char *desc;
	enum hmm_again change;
	int ret;
	bool per_pfn;	/* requests per pfn, set again before the call */
};

static_assert(offsetof(struct hmm_again_case, desc) == 0);

static const struct hmm_again_case hmm_again_cases[] = {
	{ "a stale sequence", AGAIN_STALE, -EBUSY },
	{ "the range past its VMA", AGAIN_PAST_VMA, -EINVAL },
	{ "no VMA at the range", AGAIN_NO_VMA, -EFAULT },
	{ "an unaligned end", AGAIN_UNALIGNED, -EINVAL },
	{ "another owner", AGAIN_OWNER, -EINVAL },
	{ "per-pfn requests, a stale sequence", AGAIN_STALE, -EBUSY, true },
};

static int hmm_again_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_again_cases,
				    ARRAY_SIZE(hmm_again_cases), hmmk_desc);
	return 0;
}

/*
 * A call again after a success that fails: the pages the last call
 * prepared are put back, and with requests in default_flags no entry of
 * hmm_pfns still says HMM_PFN_MIGRATE, with per-pfn requests hmm_pfns
 * holds the requests as given (hmm.rst, "Retrying"). The stale sequence is
 * hmm.rst's own retry loop: before the fix its -EBUSY left every output of
 * the last call saying prepared. Arguments wrong in themselves (an
 * unaligned end, another owner) are refused too, but only once the pages
 * are back: before, they stayed locked behind migration entries.
 */
static void hmm_migrate_error_after_success(struct kunit *test)
{
	const struct hmm_again_case *c = test->param_value;
	struct hmmk *ctx = test->priv;
	struct mmu_notifier_range inv;
	unsigned long addr, other, gone, i;
	struct vm_area_struct *vma;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	int first, ret = 0;
	bool shaped;

	/* The page after the range is another VMA */
	addr = hmmk_map_anon(ctx, NPAGES + 1);
	hmmk_mprotect(ctx, addr + NPAGES * PAGE_SIZE, 1, PROT_READ);
	other = hmmk_map_anon(ctx, 1);
	gone = hmmk_map_anon(ctx, NPAGES);
	hmmk_unmap(ctx, gone, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	hmmk_prep_init(ctx, &p, addr, NPAGES, HMM_PFN_REQ_FAULT,
		       MIGRATE_VMA_SELECT_SYSTEM);
	/* The same array for both calls, with room for one page more */
	p.range.hmm_pfns = kunit_kcalloc(test, NPAGES + 1,
					 sizeof(*p.range.hmm_pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p.range.hmm_pfns);
	if (c->per_pfn) {
		p.range.default_flags = 0;
		p.range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
		hmmk_set_reqs(p.range.hmm_pfns, NPAGES,
			      HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
	}
	p.range.notifier_seq = mmu_interval_read_begin(&ctx->mni);

	mmap_read_lock(ctx->mm);
	vma = vma_lookup(ctx->mm, addr);
	shaped = vma && vma->vm_end == addr + NPAGES * PAGE_SIZE &&
		 !vma_lookup(ctx->mm, gone);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_TRUE_MSG(test, shaped,
			      "the shape was not built: the range's VMA goes on, or gone is mapped");

	mmap_read_lock(ctx->mm);
	first = hmm_range_fault(&p.range);
	if (!first) {
		hmmk_expect_walk_prepared(ctx, &p.range, &p.migrate);
		switch (c->change) {
		case AGAIN_STALE:
			/* Another range of the interval changes meanwhile */
			mmu_notifier_range_init(&inv, MMU_NOTIFY_CLEAR, 0,
						ctx->mm, other,
						other + PAGE_SIZE);
			mmu_notifier_invalidate_range_start(&inv);
			mmu_notifier_invalidate_range_end(&inv);
			break;
		case AGAIN_PAST_VMA:
			p.range.end += PAGE_SIZE;
			break;
		case AGAIN_NO_VMA:
			p.range.start = gone;
			p.range.end = gone + NPAGES * PAGE_SIZE;
			break;
		case AGAIN_UNALIGNED:
			p.range.end -= PAGE_SIZE / 2;
			break;
		case AGAIN_OWNER:
			p.range.dev_private_owner = &p;
			break;
		}
		/* hmm.rst: after a success hmm_pfns holds outputs */
		if (c->per_pfn)
			hmmk_set_reqs(p.range.hmm_pfns, NPAGES,
				      HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
		ret = hmm_range_fault(&p.range);
		/* Prepared again after all: put them back before asserting */
		if (!ret) {
			migrate_hmm_range_setup(&p.range);
			hmmk_restore(&p.migrate);
		}
	}
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, first, 0);
	HMMK_EXPECT_RET(test, ret, c->ret);
	/* The outputs to check are the first call's, whatever the second's */
	p.range.start = addr;
	p.range.end = addr + NPAGES * PAGE_SIZE;
	hmmk_expect_restored(ctx, snap);
	if (c->per_pfn) {
		for (i = 0; i < NPAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i],
					    HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE,
					    "page %lu: not the request given", i);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	} else {
		hmmk_expect_no_migrate_out(ctx, &p);
	}
	hmmk_expect_balanced(ctx);
}

/*
 * Another thread that holds a page cache folio lock and then wants one the
 * walk holds: as a reader of two pages of one file, in the usual order.
 */
struct hmmk_abba {
	struct folio *holds, *wants;
	struct completion ready, done;
	bool got;		/* it saw the walk hold @wants, and took it */
};

static int hmmk_abba_fn(void *data)
{
	struct hmmk_abba *t = data;
	int ms;

	folio_lock(t->holds);
	complete(&t->ready);
	/* Wait a little for the walk to prepare the page, then queue for it */
	for (ms = 0; ms < 2000 && !folio_test_locked(t->wants); ms += 20)
		msleep(20);
	if (folio_test_locked(t->wants)) {
		folio_lock(t->wants);
		folio_unlock(t->wants);
		t->got = true;
	}
	folio_unlock(t->holds);
	complete(&t->done);
	return 0;
}

/*
 * File pages, shared and written or private and only read, with page 2 in
 * the page cache but not mapped. Another thread locks page 2's folio, then
 * waits for page 0's, which the walk prepares first. The walk's fault on
 * page 2 must then wait for that thread: it may only do so with nothing
 * prepared (a file fault may wait for a folio lock), else the two wait for
 * each other for ever.
 */
static void hmm_migrate_fault_lock_order(struct kunit *test)
{
	unsigned long len = NPAGES * PAGE_SIZE, rw, addr, i;
	struct hmmk *ctx = test->priv;
	struct task_struct *task;
	struct hmmk_abba *t;
	struct hmmk_prep p;
	struct file *file;
	int shared;

	for (shared = 0; shared < 2; shared++) {
		file = shmem_file_setup("hmmk-abba", len,
					mk_vma_flags(VMA_NORESERVE_BIT));
		KUNIT_ASSERT_FALSE(test, IS_ERR(file));
		rw = kunit_vm_mmap(test, file, 0, len, PROT_READ | PROT_WRITE,
				   MAP_SHARED, 0);
		addr = shared ? rw : kunit_vm_mmap(test, file, 0, len,
						    PROT_READ | PROT_WRITE,
						    MAP_PRIVATE, 0);
		fput(file);
		HMMK_ASSERT_ADDR(test, rw);
		HMMK_ASSERT_ADDR(test, addr);
		hmmk_write(ctx, rw, NPAGES);
		t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, t);
		t->wants = page_folio(hmmk_page(ctx, rw));
		t->holds = page_folio(hmmk_page(ctx, rw + 2 * PAGE_SIZE));
		if (!shared)
			hmmk_read(ctx, addr, NPAGES);
		/* Fault-around maps neighbours too: unmap page 2 after */
		hmmk_dontneed(ctx, addr + 2 * PAGE_SIZE, 1);
		KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + 2 * PAGE_SIZE),
				HMMK_PTE_NONE);
		init_completion(&t->ready);
		init_completion(&t->done);
		task = kthread_run(hmmk_abba_fn, t, "hmmk-abba");
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		wait_for_completion(&t->ready);

		HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
						   NPAGES, HMM_PFN_REQ_FAULT,
						   MIGRATE_VMA_SELECT_SYSTEM), 0);
		KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&t->done,
								    10 * HZ));
		kunit_info(test, "%s: the other thread %s page 0's folio",
			   shared ? "shared" : "private",
			   t->got ? "took" : "did not see the walk hold");
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
		hmmk_prep_restore(ctx, &p);
		for (i = 0; i < NPAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
					    hmmk_tag(ctx, rw + i * PAGE_SIZE),
					    "%s page %lu", shared ? "shared" : "private", i);
		hmmk_expect_unleaked(ctx, addr, NPAGES);
		hmmk_expect_balanced(ctx);
	}
}

/* Pages of kmalloc() beyond the slab caches and of vmalloc(), in use */
static long hmmk_kernel_alloc_pages(void)
{
	return global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) +
	       global_node_page_state_pages(NR_VMALLOC);
}

/*
 * Per-pfn requests are kept for the walk's later passes in an array of 8
 * bytes a page of the range, which every return must free: 64 calls over
 * 32 MiB would leave 4 MiB (1024 pages) behind. The counters are summed
 * per CPU lazily, so the bound is half that.
 */
static void hmm_migrate_requests_freed(struct kunit *test)
{
	unsigned long npages = SZ_32M >> PAGE_SHIFT, addr;
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	long before, grown;
	int i, ret = 0;

	addr = hmmk_map_anon(ctx, npages);
	hmmk_migrate_init(ctx, &p.migrate, addr, npages,
			  MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &p.range, addr, npages, 0);
	p.range.pfn_flags_mask = HMM_PFN_REQ_MIGRATE;
	p.range.migrate = &p.migrate;

	before = hmmk_kernel_alloc_pages();
	for (i = 0; i < 64 && !ret; i++)
		ret = hmmk_fault(ctx, &p.range);
	grown = hmmk_kernel_alloc_pages() - before;
	kunit_info(test, "64 calls: %ld pages of kmalloc()/vmalloc() more",
		   grown);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_LT_MSG(test, grown, 512,
			    "64 calls left %ld pages of kmalloc()/vmalloc() behind",
			    grown);
	hmmk_unmap(ctx, addr, npages);
}

/*
 * Our MMU_NOTIFY_MIGRATE invalidation, with pgmap_owner as owner, brackets
 * the PTE changes and is ended before any fault: a driver's fault path may
 * wait for the invalidations of the range to end. The faults here (COW
 * breaks) start invalidations of their own.
 */
static void hmm_migrate_notifier(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmmk_prep p;
	unsigned long addr;

	addr = hmmk_map_shmem(ctx, NPAGES, false);
	hmmk_read(ctx, addr, NPAGES);
	ctx->counts = (struct hmmk_counts){};

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT |
					   HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	KUNIT_EXPECT_GE(test, ctx->counts.own_migrate, 1);
	KUNIT_EXPECT_GT(test, ctx->counts.starts, ctx->counts.own_migrate);
	KUNIT_EXPECT_EQ_MSG(test, ctx->counts.nested_in_own, 0,
			    "invalidations started inside ours: a fault ran in it");
	hmmk_expect_balanced(ctx);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
}

static struct kunit_case hmm_migrate_contract_test_cases[] = {
	KUNIT_CASE(hmm_migrate_rollback_sigbus),
	KUNIT_CASE(hmm_migrate_vma_fault_best_effort),
	KUNIT_CASE(hmm_migrate_vma_fault_select),
	KUNIT_CASE(hmm_migrate_rollback_eperm),
	KUNIT_CASE(hmm_migrate_no_table_then_error),
	HMMK_CASE_PARAMS(hmm_migrate_bad_args, hmm_bad_cases),
	KUNIT_CASE(hmm_migrate_per_pfn_requests_kept),
	KUNIT_CASE(hmm_migrate_best_effort_then_error),
	KUNIT_CASE(hmm_migrate_ebusy),
	KUNIT_CASE(hmm_migrate_retry_unmapped),
	KUNIT_CASE(hmm_migrate_retry_after_success),
	KUNIT_CASE(hmm_migrate_setup_twice),
	HMMK_CASE_PARAMS(hmm_migrate_error_after_success, hmm_again_cases),
	HMMK_CASE_PARAMS(hmm_migrate_retry_changed, hmm_change_cases),
	KUNIT_CASE(hmm_migrate_retry_invalidated),
	KUNIT_CASE(hmm_migrate_reuse_chunks),
	KUNIT_CASE(hmm_migrate_write_rdonly),
	KUNIT_CASE(hmm_migrate_notifier),
	KUNIT_CASE(hmm_migrate_requests_freed),
	KUNIT_CASE_SLOW(hmm_migrate_fault_lock_order),
	/* Last: an implementation that dereferences NULL crashes here */
	KUNIT_CASE(hmm_migrate_null_notifier),
	{}
};

static struct kunit_suite hmm_migrate_contract_test_suite = {
	.name = "hmm_migrate_contract",
	.init = hmmk_suite_init,
	.test_cases = hmm_migrate_contract_test_cases,
};

kunit_test_suite(hmm_migrate_contract_test_suite);
