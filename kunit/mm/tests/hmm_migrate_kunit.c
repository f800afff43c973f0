// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the migrate-prepare walk: hmm_range_fault() with
 * HMM_PFN_REQ_MIGRATE followed by migrate_hmm_range_setup(), and
 * migrate_vma_setup() with MIGRATE_VMA_FAULT.
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

#include "hmm_kunit.h"

#define NPAGES	8

/* The two entry points of the unified walk */
enum hmmk_via {
	VIA_HMM,	/* hmm_range_fault() + migrate_hmm_range_setup() */
	VIA_VMA,	/* migrate_vma_setup() with MIGRATE_VMA_FAULT */
	VIA_PLAIN,	/* migrate_vma_setup(), no fault: its own walk */
};

static const enum hmmk_via hmmk_vias[] = { VIA_HMM, VIA_VMA };
/* For states that need no fault: the plain call must prepare them too */
static const enum hmmk_via hmmk_vias_plain[] = { VIA_HMM, VIA_VMA, VIA_PLAIN };

static const char *hmmk_via_name(enum hmmk_via via)
{
	static const char * const names[] = {
		[VIA_HMM] = "hmm_range_fault",
		[VIA_VMA] = "migrate_vma_setup",
		[VIA_PLAIN] = "plain migrate_vma_setup",
	};

	return names[via];
}

static void hmmk_vias_desc(struct kunit *test, const void *param,
			   char *desc)
{
	const enum hmmk_via *via = param;

	strscpy(desc, hmmk_via_name(*via), KUNIT_PARAM_DESC_SIZE);
}

static int hmmk_vias_init(struct kunit *test)
{
	kunit_register_params_array(test, hmmk_vias, ARRAY_SIZE(hmmk_vias),
				    hmmk_vias_desc);
	return 0;
}

static int hmmk_vias_plain_init(struct kunit *test)
{
	kunit_register_params_array(test, hmmk_vias_plain,
				    ARRAY_SIZE(hmmk_vias_plain), hmmk_vias_desc);
	return 0;
}

struct hmmk_prep {
	enum hmmk_via via;
	struct hmm_range range;
	struct migrate_vma migrate;
};

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

/* Every page of [addr, + npages) holds its tag, as the CPU reads it */
static void hmmk_expect_data(struct hmmk *ctx, unsigned long addr,
			     unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		KUNIT_EXPECT_EQ_MSG(ctx->test,
				    hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    hmmk_tag(ctx, addr + i * PAGE_SIZE),
				    "page %lu", i);
}

/*
 * Right after a successful hmm_range_fault() with HMM_PFN_REQ_MIGRATE, the
 * mmap lock still held, before migrate_hmm_range_setup() (whose unmap would
 * replace any page still mapped): what the walk itself did. Each page it
 * says is prepared is mapped by a migration entry to the page in src
 * (+ its offset in a compound unit), locked; a hole is not mapped; the
 * output agrees with src, pfn and order included.
 */
static void hmmk_expect_walk_prepared(struct hmmk *ctx,
				      struct hmm_range *range,
				      struct migrate_vma *migrate)
{
	unsigned long i, n = (range->end - range->start) >> PAGE_SHIFT;
	struct kunit *test = ctx->test;
	struct page *unit = NULL;	/* the head of a compound unit */
	unsigned long in_unit = 0;

	for (i = 0; i < n; i++) {
		unsigned long addr = range->start + i * PAGE_SIZE;
		unsigned long out = range->hmm_pfns[i], src = migrate->src[i];
		struct page *page, *mapped;
		enum hmmk_pte pte;

		if (src & MIGRATE_PFN_COMPOUND) {
			unit = migrate_pfn_to_page(src);
			in_unit = 0;
		}
		if (!(out & HMM_PFN_MIGRATE)) {
			KUNIT_EXPECT_FALSE_MSG(test, src & MIGRATE_PFN_MIGRATE,
					       "page %lu in src, not reported", i);
			unit = NULL;
			continue;
		}
		if (out & HMM_PFN_COMPOUND) {
			KUNIT_EXPECT_TRUE_MSG(test, in_unit || (src & MIGRATE_PFN_COMPOUND),
					      "page %lu: a unit without its head", i);
			page = unit ? unit + in_unit : NULL;
			in_unit++;
		} else {
			KUNIT_EXPECT_TRUE_MSG(test, src & MIGRATE_PFN_MIGRATE,
					      "page %lu reported, not in src", i);
			page = migrate_pfn_to_page(src);
		}
		pte = hmmk_pte_locked(ctx, addr, &mapped);
		if (!page) {
			/* A hole: nothing to copy, not valid, nothing mapped */
			KUNIT_EXPECT_FALSE_MSG(test, out & HMM_PFN_VALID,
					       "hole %lu reported valid", i);
			KUNIT_EXPECT_TRUE_MSG(test, pte == HMMK_PTE_NONE ||
					      pte == HMMK_PTE_ZERO,
					      "hole %lu is mapped (%d)", i, pte);
			continue;
		}
		KUNIT_EXPECT_TRUE_MSG(test, out & HMM_PFN_VALID,
				      "page %lu prepared, not valid", i);
		KUNIT_EXPECT_EQ_MSG(test, out & ~HMM_PFN_FLAGS, page_to_pfn(page),
				    "page %lu: the pfn reported is not src's", i);
		KUNIT_EXPECT_EQ_MSG(test, hmm_pfn_to_map_order(out),
				    out & HMM_PFN_COMPOUND ? HMMK_PMD_ORDER : 0,
				    "page %lu: order", i);
		KUNIT_EXPECT_EQ_MSG(test, pte, HMMK_PTE_MIGRATION,
				    "page %lu prepared, not a migration entry", i);
		KUNIT_EXPECT_PTR_EQ_MSG(test, mapped, page,
					"page %lu: the entry is for another page", i);
		KUNIT_EXPECT_TRUE_MSG(test, folio_test_locked(page_folio(page)),
				      "page %lu prepared, not locked", i);
	}
}

/*
 * Prepare [addr, addr + npages pages) with the walk under test: @req are the
 * hmm request flags (VIA_VMA always faults for read, VIA_PLAIN never), @select the
 * MIGRATE_VMA_SELECT_* flags. The mmap lock is held from the walk to the
 * end of the setup, as a driver holds it.
 */
static int hmmk_prepare(struct hmmk *ctx, struct hmmk_prep *p,
			enum hmmk_via via, unsigned long addr,
			unsigned long npages, unsigned long req,
			unsigned long select)
{
	int tries = 16;
	int ret;

	p->via = via;
	hmmk_migrate_init(ctx, &p->migrate, addr, npages, select);
	if (via == VIA_VMA || via == VIA_PLAIN) {
		if (via == VIA_VMA)
			p->migrate.flags |= MIGRATE_VMA_FAULT;
		mmap_read_lock(ctx->mm);
		p->migrate.vma = vma_lookup(ctx->mm, addr);
		ret = migrate_vma_setup(&p->migrate);
		mmap_read_unlock(ctx->mm);
		return ret;
	}

	hmmk_range_init(ctx, &p->range, addr, npages,
			req | HMM_PFN_REQ_MIGRATE);
	p->range.migrate = &p->migrate;
	do {
		p->range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
		mmap_read_lock(ctx->mm);
		ret = hmm_range_fault(&p->range);
		if (!ret) {
			hmmk_expect_walk_prepared(ctx, &p->range, &p->migrate);
			migrate_hmm_range_setup(&p->range);
		}
		mmap_read_unlock(ctx->mm);
	} while (ret == -EBUSY && --tries);
	return ret;
}

static void hmmk_prep_restore(struct hmmk *ctx, struct hmmk_prep *p)
{
	mmap_read_lock(ctx->mm);
	hmmk_restore(&p->migrate);
	mmap_read_unlock(ctx->mm);
}

/* After an error no page is reported as prepared */
static void hmmk_expect_no_migrate_out(struct hmmk *ctx, struct hmmk_prep *p)
{
	unsigned long i;

	if (p->via != VIA_HMM)
		return;
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_FALSE_MSG(ctx->test,
				       p->range.hmm_pfns[i] & HMM_PFN_MIGRATE,
				       "page %lu", i);
	KUNIT_EXPECT_EQ(ctx->test, p->migrate.cpages, 0);
}

static unsigned long hmmk_src_of(struct page *page, bool write)
{
	return migrate_pfn(page_to_pfn(page)) | MIGRATE_PFN_MIGRATE |
	       (write ? MIGRATE_PFN_WRITE : 0);
}

/* Every page of @snap prepared, writable, as the page it was */
static void hmmk_expect_prepared(struct hmmk *ctx, struct migrate_vma *m,
				 struct hmmk_snap *snap)
{
	unsigned long i;

	KUNIT_EXPECT_EQ(ctx->test, m->cpages, snap->npages);
	for (i = 0; i < snap->npages; i++)
		KUNIT_EXPECT_EQ_MSG(ctx->test, m->src[i],
				    hmmk_src_of(snap->p[i].page, true),
				    "page %lu", i);
}

/* The flags a test compares in an hmm pfn: not the pfn, not the order */
#define HMMK_FLAGS	(HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR | \
			 HMM_PFN_MIGRATE | HMM_PFN_COMPOUND)

static void hmmk_need_thp(struct kunit *test)
{
	HMMK_SKIP_UNLESS(test, thp_migration_supported(), "THP migration");
}

static void hmmk_need_device(struct hmmk *ctx)
{
	HMMK_SKIP_UNLESS(ctx->test, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
			 "CONFIG_DEVICE_PRIVATE");
	KUNIT_ASSERT_EQ(ctx->test, hmmk_dev_init(ctx), 0);
}

/* Written pages: each one replaced by a migration entry, then put back */
static void hmm_migrate_present(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.npages, NPAGES);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    hmmk_src_of(snap->p[i].page, true),
				    "page %lu", i);
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test,
					    p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_VALID | HMM_PFN_WRITE |
					    HMM_PFN_MIGRATE, "page %lu", i);
	}
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), NPAGES);
	KUNIT_EXPECT_GE(test, ctx->counts.own_migrate, 1);

	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/*
 * Nothing to copy: never touched, freed, or the zero page. Each is prepared
 * as a hole (no pfn, not valid) without a fault, and its PTE stays as it is.
 */
static void hmm_migrate_holes(struct kunit *test)
{
	static const enum hmmk_state states[NPAGES] = {
		HMMK_NONE, HMMK_FREED, HMMK_ZERO, HMMK_NONE,
		HMMK_ZERO, HMMK_FREED, HMMK_NONE, HMMK_ZERO,
	};
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, addr, states, NPAGES);

	/* Even asked for write: migrate_vma_pages() maps the new page so */
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		enum hmmk_pte want = states[i] == HMMK_ZERO ? HMMK_PTE_ZERO :
				     HMMK_PTE_NONE;

		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], MIGRATE_PFN_MIGRATE,
				    "page %lu (%s)", i,
				    hmmk_state_name(states[i]));
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test,
					    p.range.hmm_pfns[i] & ~HMM_PFN_FLAGS,
					    0, "page %lu: a hole has no pfn", i);
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test,
					    p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_MIGRATE,
					    "page %lu (%s): a hole is not valid",
					    i, hmmk_state_name(states[i]));
		KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
				    want, "page %lu faulted", i);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_balanced(ctx);

	/* No page table at all: holes page by page, no page table made */
	addr = ALIGN(hmmk_map_anon(ctx, 2 * HMMK_PMD_PAGES), PMD_SIZE);
	KUNIT_ASSERT_FALSE(test, hmmk_pte_table(ctx, addr));
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], MIGRATE_PFN_MIGRATE,
				    "page %lu of a PMD without page table", i);
	KUNIT_EXPECT_FALSE(test, hmmk_pte_table(ctx, addr));
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_balanced(ctx);
}

struct hmm_big_case {
	const char *desc;
	enum hmmk_via via;
	bool thp;
};

static const struct hmm_big_case hmm_big_cases[] = {
	{ "hmm_range_fault, 4k pages", VIA_HMM, false },
	{ "migrate_vma_setup, 4k pages", VIA_VMA, false },
	{ "hmm_range_fault, THPs", VIA_HMM, true },
	{ "migrate_vma_setup, THPs", VIA_VMA, true },
};

static void hmm_big_cases_desc(struct kunit *test, const void *param,
			       char *desc)
{
	const struct hmm_big_case *c = param;

	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

static int hmm_big_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_big_cases, ARRAY_SIZE(hmm_big_cases),
				    hmm_big_cases_desc);
	return 0;
}

/*
 * 4 MiB written then freed with MADV_DONTNEED: all 1024 pages are prepared,
 * and nothing is left behind once the migration is finalized.
 */
static void hmm_migrate_dontneed_4m(struct kunit *test)
{
	const struct hmm_big_case *c = test->param_value;
	const unsigned long npages = SZ_4M >> PAGE_SHIFT;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long addr, i, pages = 0;
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM;
	struct hmmk_prep p;

	if (c->thp) {
		HMMK_SKIP_UNLESS(test, thp_migration_supported(),
				 "THP migration");
		addr = hmmk_map_thp(ctx, SZ_4M / PMD_SIZE);
		select |= MIGRATE_VMA_SELECT_COMPOUND;
	} else {
		addr = hmmk_map_anon(ctx, npages);
	}
	hmmk_write(ctx, addr, npages);
	hmmk_dontneed(ctx, addr, npages);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, c->via, addr, npages,
					   HMM_PFN_REQ_FAULT, select), 0);
	for (i = 0; i < npages; i++) {
		if (p.migrate.src[i] & MIGRATE_PFN_COMPOUND)
			pages += PMD_SIZE >> PAGE_SHIFT;
		else if (p.migrate.src[i] & MIGRATE_PFN_MIGRATE)
			pages++;
	}
	KUNIT_EXPECT_EQ_MSG(test, pages, npages, "pages prepared");
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, npages,
					     HMMK_PTE_MIGRATION), 0);

	hmmk_prep_restore(ctx, &p);
	KUNIT_ASSERT_EQ_MSG(test, hmmk_count_pte(ctx, addr, npages,
						 HMMK_PTE_MIGRATION), 0,
			    "migration entries left: the CPU would wait forever");
	for (i = 0; i < npages; i += 97)
		KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr + i * PAGE_SIZE), 0);
	hmmk_expect_balanced(ctx);
}

/*
 * Read-only file pages of a private mapping: HMM_PFN_REQ_WRITE breaks COW in
 * the walk, and the new anonymous pages are prepared writable.
 */
static void hmm_migrate_write_fault(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_shmem(ctx, NPAGES, false);
	hmmk_read(ctx, addr, NPAGES);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT |
					   HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		struct page *page = migrate_pfn_to_page(p.migrate.src[i]);

		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE |
				    HMM_PFN_MIGRATE, "page %lu", i);
		KUNIT_EXPECT_TRUE_MSG(test, p.migrate.src[i] & MIGRATE_PFN_WRITE,
				      "page %lu", i);
		KUNIT_EXPECT_TRUE_MSG(test, page && folio_test_anon(page_folio(page)),
				      "page %lu is not the COW copy", i);
	}
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_PRESENT), NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * A file mapping with no page table under it at all: the walk faults the
 * pages in from its hole callback, walks the page table those faults made,
 * and prepares every page.
 */
static void hmm_migrate_no_page_table(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_prep p;
	unsigned long map, addr, i;

	/* A PMD of its own: no other mapping made a page table there */
	map = hmmk_map_shmem(ctx, 2 * HMMK_PMD_PAGES, true);
	addr = ALIGN(map, PMD_SIZE);
	KUNIT_ASSERT_FALSE(test, hmmk_pte_table(ctx, addr));

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test,
				      p.migrate.src[i] & MIGRATE_PFN_MIGRATE,
				      "page %lu", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_PRESENT), NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    0, "page %lu", i);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, map, 2 * HMMK_PMD_PAGES);
}

/* File pages in the page cache but not mapped: faulted in, then prepared */
static void hmm_migrate_file_unmapped(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_shmem(ctx, NPAGES, true);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	hmmk_dontneed(ctx, addr, NPAGES);
	KUNIT_ASSERT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES, HMMK_PTE_NONE),
			NPAGES);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test,
					migrate_pfn_to_page(p.migrate.src[i]),
					snap->p[i].page, "page %lu", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), 0);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				hmmk_tag(ctx, addr + i * PAGE_SIZE));
	hmmk_expect_balanced(ctx);

	/* Without a fault request, nothing there can be prepared */
	hmmk_dontneed(ctx, addr, NPAGES);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES, HMMK_PTE_NONE),
			NPAGES);
}

/*
 * A migration entry of someone else's migration: with a fault request the
 * walk waits until it goes away, then prepares the page.
 */
static void hmm_migrate_waits_for_entry(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_held *held;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	held = hmmk_hold(ctx, addr + 2 * PAGE_SIZE, 2);
	/* Page 0 is prepared before the walk reaches the entry */
	ctx->probe_page = hmmk_page(ctx, addr);
	hmmk_release_after(held, 100);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_TRUE_MSG(test, hmmk_released(held),
			      "returned before the migration entry went away");
	KUNIT_EXPECT_EQ_MSG(test, ctx->probe_locked, 0,
			    "page 0's folio was locked while the walk waited (-1: no wait seen)");
	hmmk_release_wait(held);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test, migrate_pfn_to_page(p.migrate.src[i]),
				      "page %lu not prepared", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_PRESENT), NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * Another driver's device private page after pages already prepared: its
 * migrate_to_ram() runs with none of them locked (they are put back first,
 * then prepared again), and every page ends up prepared.
 */
static void hmm_migrate_foreign_unlocked(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
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

/* Without a fault request a migration entry is skipped, not waited for */
static void hmm_migrate_skips_entry(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_held *held;
	struct hmmk_prep p;
	unsigned long addr;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	held = hmmk_hold(ctx, addr, 1);
	hmmk_release_after(held, 2000);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_FALSE(test, hmmk_released(held));
	KUNIT_EXPECT_EQ(test, p.range.hmm_pfns[0] & HMMK_FLAGS, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.src[0], 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
	hmmk_prep_restore(ctx, &p);
	hmmk_release_wait(held);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
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
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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
	hmmk_expect_balanced(ctx);
}

/*
 * MIGRATE_VMA_FAULT without MIGRATE_VMA_SELECT_SYSTEM faults nothing: a
 * fault only brings in system pages, which such a call does not take. File
 * pages stay unmapped, another driver's pages stay in its memory.
 */
static void hmm_migrate_vma_fault_select(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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
 * Pages that cannot be prepared now: one whose folio is locked elsewhere,
 * one pinned by GUP (its anon-exclusive bit cannot be cleared). Each is
 * reported valid and left mapped; the others are prepared; nothing loops.
 */
static void hmm_migrate_busy_pages(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct page *locked, *pinned = NULL;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	locked = snap->p[1].page;
	KUNIT_ASSERT_TRUE(test, folio_trylock(page_folio(locked)));
	mmap_read_lock(ctx->mm);
	ret = pin_user_pages(addr + 4 * PAGE_SIZE, 1, FOLL_WRITE | FOLL_LONGTERM,
			     &pinned);
	mmap_read_unlock(ctx->mm);
	if (ret != 1)
		folio_unlock(page_folio(locked));
	KUNIT_ASSERT_EQ(test, ret, 1);

	ret = hmmk_prepare(ctx, &p, *via, addr, NPAGES, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	folio_unlock(page_folio(locked));
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 2);
	for (i = 0; i < NPAGES; i++) {
		bool busy = i == 1 || i == 4;

		KUNIT_EXPECT_EQ_MSG(test, !p.migrate.src[i], busy, "page %lu", i);
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test,
					    p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_VALID | HMM_PFN_WRITE |
					    (busy ? 0 : HMM_PFN_MIGRATE),
					    "page %lu", i);
	}
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + PAGE_SIZE), HMMK_PTE_PRESENT);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + 4 * PAGE_SIZE),
			HMMK_PTE_PRESENT);
	hmmk_prep_restore(ctx, &p);
	unpin_user_page(pinned);
	hmmk_expect_restored(ctx, snap);
}

/*
 * A THP that can be neither prepared as a unit nor split (a page of it is
 * pinned): reported as it is, no page of it prepared, and the walk ends.
 */
static void hmm_migrate_unsplittable_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct page *pinned = NULL;
	struct hmmk_prep p;
	unsigned long addr;
	int ret;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	mmap_read_lock(ctx->mm);
	ret = pin_user_pages(addr + 3 * PAGE_SIZE, 1, FOLL_WRITE | FOLL_LONGTERM,
			     &pinned);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_EQ(test, ret, 1);

	/* Part of the THP: it must be split, and cannot be */
	ret = hmmk_prepare(ctx, &p, *via, addr, 16, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	if (!ret)
		hmmk_prep_restore(ctx, &p);
	unpin_user_page(pinned);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
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
	bool no_src;
	bool no_dst;
	bool pfns_are_src;	/* range->hmm_pfns == migrate->src */
	bool pfnmap;		/* a VM_PFNMAP VMA */
	bool system_fault_page;	/* migrate->fault_page not device private */
	bool unlocked_fault_page; /* a device private fault_page, not locked */
};

static const struct hmm_bad_case hmm_bad_cases[] = {
	{ "no range->migrate", 0, NPAGES, 0, .no_migrate = true },
	{ "unaligned start", 0, NPAGES, 8 },
	{ "empty range", 0, 0 },
	{ "beyond the VMA", 2, NPAGES },
	{ "two VMAs", 0, NPAGES, .two_vmas = true },
	{ "owner differs from pgmap_owner", 0, NPAGES, .other_owner = true },
	{ "unaligned end", 0, NPAGES, .end_offset = -8 },
	{ "no src array", 0, NPAGES, .no_src = true },
	{ "no dst array", 0, NPAGES, .no_dst = true },
	{ "hmm_pfns is the src array", 0, NPAGES, .pfns_are_src = true },
	{ "VM_PFNMAP VMA", 0, NPAGES, .pfnmap = true },
	{ "fault_page is a system page", 0, NPAGES,
	  .system_fault_page = true },
	{ "fault_page is not locked", 0, NPAGES, .unlocked_fault_page = true },
};

static void hmm_bad_cases_desc(struct kunit *test, const void *param,
			       char *desc)
{
	const struct hmm_bad_case *c = param;

	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

static int hmm_bad_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_bad_cases, ARRAY_SIZE(hmm_bad_cases),
				    hmm_bad_cases_desc);
	return 0;
}

/*
 * Per-pfn requests (pfn_flags_mask): only the pages that ask for
 * HMM_PFN_REQ_MIGRATE are prepared; the others are faulted as asked and
 * reported. Over a PMD with no page table (a hole: prepared without a
 * fault, faulted in where only a fault is asked) and a PMD of written pages
 * (a THP where THP is built: split, as not every page asks).
 */
static void hmm_migrate_per_pfn(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	unsigned long n = 2 * HMMK_PMD_PAGES, addr, i, cpages = 0;
	struct migrate_vma migrate;
	struct hmm_range range;
	int ret;

	addr = hmmk_map_thp(ctx, 2);
	hmmk_write(ctx, addr + PMD_SIZE, HMMK_PMD_PAGES);
	hmmk_migrate_init(ctx, &migrate, addr, n, MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &range, addr, n, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
	range.migrate = &migrate;
	for (i = 0; i < n; i++) {
		range.hmm_pfns[i] = i % 3 == 0 ? HMM_PFN_REQ_FAULT :
				    i % 3 == 1 ? HMM_PFN_REQ_MIGRATE :
				    HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
		cpages += i % 3 != 0;
	}

	mmap_read_lock(ctx->mm);
	range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
	ret = hmm_range_fault(&range);
	if (!ret)
		migrate_hmm_range_setup(&range);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);

	KUNIT_EXPECT_EQ(test, migrate.cpages, cpages);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test,
				    !!(migrate.src[i] & MIGRATE_PFN_MIGRATE),
				    i % 3 != 0, "page %lu", i);
		if (i % 3 == 0)
			KUNIT_EXPECT_TRUE_MSG(test,
					      range.hmm_pfns[i] & HMM_PFN_VALID &&
					      page_to_pfn(hmm_pfn_to_page(range.hmm_pfns[i])),
					      "page %lu", i);
	}
	mmap_read_lock(ctx->mm);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	/* The written pages not asked for are reported with their own pfn */
	for (i = roundup(HMMK_PMD_PAGES, 3); i < n; i += 3)
		KUNIT_EXPECT_PTR_EQ_MSG(test, hmm_pfn_to_page(range.hmm_pfns[i]),
					hmmk_page(ctx, addr + i * PAGE_SIZE),
					"page %lu", i);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, n, HMMK_PTE_MIGRATION),
			0);
	/*
	 * In the untouched PMD only the pages asking for a fault got one
	 * (unless the fault mapped the huge zero page over the whole PMD)
	 */
	for (i = 0; i < HMMK_PMD_PAGES && !hmmk_pmd_mapped(ctx, addr); i++)
		if (i % 3)
			KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
					    HMMK_PTE_NONE, "page %lu faulted", i);
	for (i = HMMK_PMD_PAGES; i < n; i += 7)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    hmmk_tag(ctx, addr + i * PAGE_SIZE),
				    "page %lu", i);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, n);
}

/*
 * Per-pfn requests across a second pass: page 1 is prepared, then the fault
 * at page 2 must wait for another migration's entry, so page 1 is put back
 * and the walk only faults to the end; the pass that prepares again must
 * still see what each page asked for. Page 0 (never touched) asks for
 * migration: a hole; pages 1, 2 too: prepared; the others ask for a fault
 * only: reported valid.
 */
static void hmm_migrate_per_pfn_repass(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	struct migrate_vma migrate;
	struct hmm_range range;
	struct hmmk_held *held;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr + PAGE_SIZE, NPAGES - 1);
	held = hmmk_hold(ctx, addr + 2 * PAGE_SIZE, 1);
	hmmk_release_after(held, 100);
	hmmk_migrate_init(ctx, &migrate, addr, NPAGES,
			  MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &range, addr, NPAGES, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
	range.migrate = &migrate;
	for (i = 0; i < NPAGES; i++)
		range.hmm_pfns[i] = HMM_PFN_REQ_FAULT |
				    (i < 3 ? HMM_PFN_REQ_MIGRATE : 0);

	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	KUNIT_EXPECT_TRUE(test, hmmk_released(held));
	hmmk_release_wait(held);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 3);
	KUNIT_EXPECT_EQ(test, range.hmm_pfns[0] & HMMK_FLAGS, HMM_PFN_MIGRATE);
	KUNIT_EXPECT_EQ(test, migrate.src[0], MIGRATE_PFN_MIGRATE);
	for (i = 1; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE |
				    (i < 3 ? HMM_PFN_MIGRATE : 0),
				    "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, !!migrate.src[i], i < 3,
				    "page %lu", i);
	}
	mmap_read_lock(ctx->mm);
	migrate_hmm_range_setup(&range);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), 0);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
}

/* NUMA hinting faults taken so far, by every CPU */
static unsigned long hmmk_hint_faults(struct kunit *test)
{
	unsigned long n = 0;
#if defined(CONFIG_NUMA_BALANCING) && defined(CONFIG_VM_EVENT_COUNTERS)
	unsigned long *ev = kunit_kcalloc(test, NR_VM_EVENT_ITEMS, sizeof(*ev),
					  GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ev);
	all_vm_events(ev);
	n = ev[NUMA_HINT_FAULTS];
	kunit_kfree(test, ev);
#endif
	return n;
}

/*
 * NUMA hinting PTEs and PMDs (PROT_NONE, armed by change_prot_numa()) are
 * prepared as they are, as migrate_vma_setup() collects them, and reported
 * valid (not as holes) and not writable. A read fault request takes no
 * hinting fault for a page that asks for migration: the fault could only
 * move the page to this CPU's node before it moves to the device (before:
 * one per page, and a THP put back and walked again). hmm_range_fault()
 * without migration still takes them, as in 7.2.8.
 */
static void hmm_migrate_numa_hint(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	unsigned long plain_src[NPAGES];
	unsigned long addr, i, v, hints;
	struct migrate_vma plain;
	struct hmm_range ref;
	struct hmmk_snap *snap;
	struct hmmk_prep p;

	HMMK_SKIP_UNLESS(test, IS_ENABLED(CONFIG_NUMA_BALANCING),
			 "CONFIG_NUMA_BALANCING");
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, NPAGES), NPAGES);
	KUNIT_ASSERT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES, HMMK_PTE_NUMA),
			NPAGES);

	/* What migrate_vma_setup() collects, the reference */
	hmmk_migrate_init(ctx, &plain, addr, NPAGES, MIGRATE_VMA_SELECT_SYSTEM);
	mmap_read_lock(ctx->mm);
	plain.vma = vma_lookup(ctx->mm, addr);
	HMMK_ASSERT_RET(test, migrate_vma_setup(&plain), 0);
	/* migrate_vma_pages() takes MIGRATE_PFN_MIGRATE off: keep a copy */
	memcpy(plain_src, plain.src, sizeof(plain_src));
	hmmk_restore(&plain);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_EQ(test, plain.cpages, NPAGES);

	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, NPAGES), NPAGES);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], plain_src[i],
				    "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    hmmk_src_of(snap->p[i].page, false),
				    "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_MIGRATE,
				    "page %lu", i);
	}
	hmmk_prep_restore(ctx, &p);

	/* hmm_range_fault() alone: one hinting fault a page */
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, NPAGES), NPAGES);
	hints = hmmk_hint_faults(test);
	hmmk_range_init(ctx, &ref, addr, NPAGES, HMM_PFN_REQ_FAULT);
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &ref), 0);
	KUNIT_EXPECT_EQ(test, hmmk_hint_faults(test) - hints, NPAGES);

	/* With a read fault request, through each entry point: none */
	for (v = 0; v < ARRAY_SIZE(hmmk_vias); v++) {
		KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, NPAGES),
				NPAGES);
		hints = hmmk_hint_faults(test);
		HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, hmmk_vias[v], addr,
						   NPAGES, HMM_PFN_REQ_FAULT,
						   MIGRATE_VMA_SELECT_SYSTEM), 0);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_hint_faults(test) - hints, 0,
				    "%s took hinting faults",
				    hmmk_via_name(hmmk_vias[v]));
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
		for (i = 0; i < NPAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], plain_src[i],
					    "%s: page %lu",
					    hmmk_via_name(hmmk_vias[v]), i);
		hmmk_prep_restore(ctx, &p);
	}
	/* A write request: the entry is not writable, the fault is taken */
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, NPAGES), NPAGES);
	hints = hmmk_hint_faults(test);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, hmmk_hint_faults(test) - hints, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    hmmk_src_of(snap->p[i].page, true),
				    "write: page %lu", i);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
	hmmk_unmap(ctx, addr, NPAGES);

	/* A PMD mapped THP: one unit, valid */
	if (!thp_migration_supported())
		return;
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	if (!hmmk_pmd_mapped(ctx, addr))
		return;
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, HMMK_PMD_PAGES),
			HMMK_PMD_PAGES);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_NUMA);
	hints = hmmk_hint_faults(test);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
					   HMMK_PMD_PAGES, HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_EQ(test, hmmk_hint_faults(test) - hints, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
	KUNIT_EXPECT_TRUE(test, p.migrate.src[0] & MIGRATE_PFN_COMPOUND);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_MIGRATE |
				    HMM_PFN_COMPOUND, "page %lu", i);
	hmmk_prep_restore(ctx, &p);

	/* A write request: the THP's hinting fault is taken, then prepared */
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, HMMK_PMD_PAGES),
			HMMK_PMD_PAGES);
	hints = hmmk_hint_faults(test);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
					   HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_GT(test, hmmk_hint_faults(test) - hints, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
	KUNIT_EXPECT_TRUE(test, p.migrate.src[0] & MIGRATE_PFN_WRITE);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * A device-exclusive entry (make_device_exclusive(), as a driver's atomic
 * access makes it): without a fault request it is left alone, as
 * migrate_vma_setup() leaves it; with one, the fault gives the page back to
 * the CPU and it is prepared with its data.
 */
static void hmm_migrate_device_exclusive(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_snap *snap;
	struct folio *folio;
	struct hmmk_prep p;
	struct page *page;
	unsigned long addr;

	HMMK_SKIP_UNLESS(test, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
			 "CONFIG_DEVICE_PRIVATE (make_device_exclusive())");
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	mmap_read_lock(ctx->mm);
	page = make_device_exclusive(ctx->mm, addr + 3 * PAGE_SIZE, ctx,
				     &folio);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(page));
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + 3 * PAGE_SIZE),
			HMMK_PTE_OTHER);

	if (*via == VIA_HMM) {
		HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
						   NPAGES, 0,
						   MIGRATE_VMA_SELECT_SYSTEM), 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
		KUNIT_EXPECT_EQ(test, p.migrate.src[3], 0);
		KUNIT_EXPECT_EQ(test, p.range.hmm_pfns[3] & HMMK_FLAGS, 0);
		hmmk_prep_restore(ctx, &p);
		KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + 3 * PAGE_SIZE),
				HMMK_PTE_OTHER);
	}

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	KUNIT_EXPECT_EQ(test, p.migrate.src[3],
			hmmk_src_of(snap->p[3].page, true));
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
}

/*
 * Entry kinds userfaultfd and memory failure make. The test makes them as
 * userspace does: the userfaultfd() system call and its ioctls, with their
 * arguments in the test's memory; memory_failure() as a machine check
 * reports a broken page.
 */
#if defined(CONFIG_X86_64) && defined(CONFIG_PTE_MARKER_UFFD_WP)
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/userfaultfd_k.h>

#include "../internal.h"	/* mm_find_pmd() */

/* No in-kernel way to a userfaultfd context but the system call */
long __x64_sys_userfaultfd(const struct pt_regs *regs);

struct hmmk_uffd {
	int fd;
	struct file *file;
	unsigned long arg;	/* a page of the test's memory: ioctl arguments */
};

static long hmmk_uffd_ioctl(struct hmmk_uffd *u, unsigned int cmd, void *arg,
			    size_t size)
{
	long ret;

	if (copy_to_user((void __user *)u->arg, arg, size))
		return -EFAULT;
	ret = u->file->f_op->unlocked_ioctl(u->file, cmd, u->arg);
	if (copy_from_user(arg, (void __user *)u->arg, size))
		return -EFAULT;
	return ret;
}

/*
 * Write protect [addr, + npages) with a new userfaultfd: present pages get
 * the uffd-wp bit, pte_none entries a uffd-wp marker (WP_UNPOPULATED).
 */
static void hmmk_uffd_wp(struct hmmk *ctx, struct hmmk_uffd *u,
			 unsigned long addr, unsigned long npages)
{
	struct pt_regs regs = { .di = O_CLOEXEC };
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_WP_UNPOPULATED,
	};
	struct uffdio_register reg = {
		.range = { .start = addr, .len = npages * PAGE_SIZE },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	struct kunit *test = ctx->test;

	u->arg = hmmk_map_anon(ctx, 1);
	u->fd = __x64_sys_userfaultfd(&regs);
	KUNIT_ASSERT_GE_MSG(test, u->fd, 0, "userfaultfd(): %pe",
			    ERR_PTR(u->fd));
	u->file = fget(u->fd);
	KUNIT_ASSERT_NOT_NULL(test, u->file);
	KUNIT_ASSERT_EQ(test, hmmk_uffd_ioctl(u, UFFDIO_API, &api,
					      sizeof(api)), 0);
	KUNIT_ASSERT_EQ(test, hmmk_uffd_ioctl(u, UFFDIO_REGISTER, &reg,
					      sizeof(reg)), 0);
	KUNIT_ASSERT_EQ(test, hmmk_uffd_ioctl(u, UFFDIO_WRITEPROTECT, &wp,
					      sizeof(wp)), 0);
}

/* Close it; its release unregisters the range, as at the last close */
static void hmmk_uffd_close(struct hmmk *ctx, struct hmmk_uffd *u)
{
	fput(u->file);
	close_fd(u->fd);
	flush_delayed_fput();		/* a kthread's fput is deferred */
	hmmk_unmap(ctx, u->arg, 1);
}

/* Does the entry at @addr carry the uffd-wp bit (or is a uffd-wp marker)? */
static bool hmmk_uffd_wp_bit(struct hmmk *ctx, unsigned long addr)
{
	spinlock_t *ptl;	/* the PTE lock */
	bool wp = false;
	pte_t *ptep, pte;
	pmd_t *pmdp;

	mmap_read_lock(ctx->mm);
	pmdp = mm_find_pmd(ctx->mm, addr);
	ptep = pmdp ? pte_offset_map_lock(ctx->mm, pmdp, addr, &ptl) : NULL;
	if (ptep) {
		pte = ptep_get(ptep);
		if (pte_present(pte))
			wp = pte_uffd_wp(pte);
		else if (!pte_none(pte))
			wp = pte_swp_uffd_wp_any(pte);
		pte_unmap_unlock(ptep, ptl);
	}
	mmap_read_unlock(ctx->mm);
	return wp;
}

/*
 * Pages write protected by userfaultfd, half written (present, read-only,
 * uffd-wp bit), half never touched (a uffd-wp marker each). Each entry point
 * asked to fault for read reports what hmm_range_fault() reports, prepares
 * what plain migrate_vma_setup() collects of the written half, and keeps the
 * write protection through the migration entries and back. The markers
 * fault in as the zero page, write protected: not a hole the device may
 * fill behind the protection. A write fault request fails as it does for
 * hmm_range_fault(): only the userfaultfd reader may resolve it.
 */
static void hmm_migrate_uffd_wp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long half = NPAGES / 2, addr, i;
	struct hmm_range ref;
	struct hmmk_uffd u;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, half);
	snap = hmmk_snapshot(ctx, addr, half);
	hmmk_uffd_wp(ctx, &u, addr, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_ASSERT_TRUE_MSG(test, hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "page %lu not write protected", i);
		KUNIT_ASSERT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
				    i < half ? HMMK_PTE_PRESENT : HMMK_PTE_OTHER,
				    "page %lu", i);
	}

	/* Plain migrate_vma_setup() collects the written half only */
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_PLAIN, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, half);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    i < half ? hmmk_src_of(snap->p[i].page, false) : 0,
				    "plain: page %lu", i);
	for (i = 0; i < half; i++)
		KUNIT_EXPECT_TRUE_MSG(test, hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "plain: migration entry %lu lost uffd-wp", i);
	hmmk_prep_restore(ctx, &p);
	if (*via == VIA_PLAIN)
		goto out;

	/* A read fault request: the markers become write protected zero pages */
	ret = hmmk_prepare(ctx, &p, *via, addr, NPAGES, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, half);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    i < half ? hmmk_src_of(snap->p[i].page, false) : 0,
				    "page %lu", i);
		KUNIT_EXPECT_TRUE_MSG(test, hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "page %lu lost uffd-wp while prepared", i);
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_VALID |
					    (i < half ? HMM_PFN_MIGRATE : 0),
					    "page %lu", i);
	}
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr + half * PAGE_SIZE,
					     NPAGES - half, HMMK_PTE_ZERO),
			NPAGES - half);

	/* What hmm_range_fault() alone says to a write fault request */
	hmmk_range_init(ctx, &ref, addr, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
	ret = hmmk_fault(ctx, &ref);
	KUNIT_EXPECT_EQ(test, ret, -EFAULT);
	if (*via == VIA_HMM) {
		HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
						   NPAGES, HMM_PFN_REQ_FAULT |
						   HMM_PFN_REQ_WRITE,
						   MIGRATE_VMA_SELECT_SYSTEM),
				ret);
		hmmk_expect_no_migrate_out(ctx, &p);
	}
out:
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test, hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "page %lu lost uffd-wp after restore", i);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_uffd_close(ctx, &u);
	hmmk_unmap(ctx, addr, NPAGES);
}
#else
static void hmm_migrate_uffd_wp(struct kunit *test)
{
	kunit_skip(test,
		   "needs x86_64 and CONFIG_PTE_MARKER_UFFD_WP (uffd-wp)");
}
#endif

/*
 * A page lost to a memory error (memory_failure(), as a machine check
 * reports it): its PTE holds a hwpoison entry. Its data is gone, so it is
 * never a hole the device may fill: reported neither valid nor prepared
 * and, as plain migrate_vma_setup() does, not collected. A fault request
 * there fails with -EFAULT as in hmm_range_fault(); migrate_vma_setup()'s
 * MIGRATE_VMA_FAULT is best effort and prepares the other pages.
 */
#ifdef CONFIG_MEMORY_FAILURE
static void hmm_migrate_hwpoison(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	const unsigned long bad = 3;
	struct hmm_range ref;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	KUNIT_ASSERT_EQ(test, memory_failure(page_to_pfn(snap->p[bad].page),
					     MF_SW_SIMULATED), 0);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + bad * PAGE_SIZE),
			HMMK_PTE_OTHER);
	snap->p[bad].page = NULL;	/* not ours any more */

	/* hmm_range_fault() alone: a snapshot, then a fault request */
	hmmk_range_init(ctx, &ref, addr, NPAGES, 0);
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &ref), 0);
	KUNIT_EXPECT_EQ(test, ref.hmm_pfns[bad] & HMMK_FLAGS, 0);
	hmmk_range_init(ctx, &ref, addr, NPAGES, HMM_PFN_REQ_FAULT);
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &ref), -EFAULT);

	ret = hmmk_prepare(ctx, &p, *via, addr, NPAGES, 0,
			   MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
				    i == bad ? 0 : hmmk_src_of(snap->p[i].page, true),
				    "page %lu", i);
	if (*via == VIA_HMM)
		KUNIT_EXPECT_EQ(test, p.range.hmm_pfns[bad] & HMMK_FLAGS, 0);
	hmmk_prep_restore(ctx, &p);

	if (*via != VIA_PLAIN) {
		ret = hmmk_prepare(ctx, &p, *via, addr, NPAGES,
				   HMM_PFN_REQ_FAULT, MIGRATE_VMA_SELECT_SYSTEM);
		if (*via == VIA_HMM) {
			HMMK_EXPECT_RET(test, ret, -EFAULT);
			hmmk_expect_no_migrate_out(ctx, &p);
		} else {
			HMMK_EXPECT_RET(test, ret, 0);
			KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES - 1);
			KUNIT_EXPECT_EQ(test, p.migrate.src[bad], 0);
			hmmk_prep_restore(ctx, &p);
		}
	}
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + bad * PAGE_SIZE),
			HMMK_PTE_OTHER);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_unmap(ctx, addr, NPAGES);
}
#else
static void hmm_migrate_hwpoison(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMORY_FAILURE");
}
#endif

#define MTHP_ORDER	4

/*
 * A PMD aligned anonymous range of @small written pages of order 0, then
 * @large written pages in folios of order 4 (mTHP, mapped by PTEs); only
 * order 4 is enabled, and only for the time of the writes. Skips the test
 * without mTHP.
 */
static unsigned long hmmk_map_mthp(struct hmmk *ctx, unsigned long small,
				   unsigned long large)
{
	struct kunit *test = ctx->test;
	struct folio *folio;
	unsigned long addr = 0;
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	unsigned long always, madvise, inherit;

	always = READ_ONCE(huge_anon_orders_always);
	madvise = READ_ONCE(huge_anon_orders_madvise);
	inherit = READ_ONCE(huge_anon_orders_inherit);
	WRITE_ONCE(huge_anon_orders_always, 0);
	WRITE_ONCE(huge_anon_orders_inherit, 0);
	WRITE_ONCE(huge_anon_orders_madvise, 0);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, small);
	WRITE_ONCE(huge_anon_orders_madvise, BIT(MTHP_ORDER));
	hmmk_write(ctx, addr + small * PAGE_SIZE, large);
	WRITE_ONCE(huge_anon_orders_always, always);
	WRITE_ONCE(huge_anon_orders_inherit, inherit);
	WRITE_ONCE(huge_anon_orders_madvise, madvise);
#endif
	folio = addr ? page_folio(hmmk_page(ctx, addr + small * PAGE_SIZE)) : NULL;
	HMMK_SKIP_UNLESS(test, folio && folio_order(folio) == MTHP_ORDER,
			 "an mTHP allocation");
	KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	return addr;
}

/*
 * Large folios of another order than the PMD's (mTHP, PTE mapped): split and
 * prepared page by page, as migrate_vma_setup() does, even with
 * MIGRATE_VMA_SELECT_COMPOUND (only a PMD sized unit is prepared whole).
 * Two of them: the second is split with the first's pages already counted.
 */
static void hmm_migrate_mthp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long n = 2 << MTHP_ORDER, addr, i;
	struct hmmk_prep p;

	hmmk_need_thp(test);
	addr = hmmk_map_mthp(ctx, 0, n);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, n,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	for (i = 0; i < n; i++) {
		struct page *page = migrate_pfn_to_page(p.migrate.src[i]);

		KUNIT_EXPECT_FALSE_MSG(test, p.migrate.src[i] &
				       MIGRATE_PFN_COMPOUND, "page %lu", i);
		KUNIT_EXPECT_TRUE_MSG(test, page &&
				      !folio_test_large(page_folio(page)),
				      "page %lu not split", i);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_data(ctx, addr, n);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
}

/*
 * Small pages, then a pinned mTHP in the same PMD: the mTHP cannot be split,
 * so the walk stops there. The small pages before it stay prepared and
 * counted (a count lost at the split would leave them locked behind
 * migration entries with cpages 0, never unmapped nor restored).
 */
static void hmm_migrate_unsplittable_mthp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long small = 16, n = small + (1 << MTHP_ORDER), addr, i;
	struct page *pinned = NULL;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	int ret;

	hmmk_need_thp(test);
	addr = hmmk_map_mthp(ctx, small, 1 << MTHP_ORDER);
	snap = hmmk_snapshot(ctx, addr, small);
	mmap_read_lock(ctx->mm);
	ret = pin_user_pages(addr + (small + 3) * PAGE_SIZE, 1,
			     FOLL_WRITE | FOLL_LONGTERM, &pinned);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_EQ(test, ret, 1);

	ret = hmmk_prepare(ctx, &p, *via, addr, n, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, small);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, !!(p.migrate.src[i] & MIGRATE_PFN_MIGRATE),
				    i < small, "page %lu", i);
	if (!ret)
		hmmk_prep_restore(ctx, &p);
	unpin_user_page(pinned);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_data(ctx, addr, n);
}

/*
 * Address space of @npuds PUDs, PUD aligned, no memory behind it until
 * touched; unmapped by the test (the kunit_vm_mmap() cleanup runs in
 * another kthread).
 */
static unsigned long hmmk_map_puds(struct hmmk *ctx, unsigned long npuds)
{
	unsigned long addr;

	addr = vm_mmap(NULL, 0, (npuds + 1) * PUD_SIZE, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, 0);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	/* PTE mapped: the tiers' THP mode is madvise, and none is asked */
	return addr;
}

/* No PMD table maps @addr: a walk meets a hole at PUD level or above */
static bool hmmk_no_pmd_table(struct hmmk *ctx, unsigned long addr)
{
	pgd_t *pgd;
	p4d_t *p4d;
	bool none;

	mmap_read_lock(ctx->mm);
	pgd = pgd_offset(ctx->mm, addr);
	none = pgd_none(*pgd);
	if (!none) {
		p4d = p4d_offset(pgd, addr);
		none = p4d_none(*p4d) || pud_none(*pud_offset(p4d, addr));
	}
	mmap_read_unlock(ctx->mm);
	return none;
}

/* Written pages on both sides of a PUD boundary: one range, all prepared */
static void hmm_migrate_pud_cross(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long map, addr;
	struct hmmk_snap *snap;
	struct hmmk_prep p;

	map = hmmk_map_puds(ctx, 2);
	addr = ALIGN(map + NPAGES * PAGE_SIZE, PUD_SIZE) - NPAGES / 2 * PAGE_SIZE;
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.npages, NPAGES);
	hmmk_expect_prepared(ctx, &p.migrate, snap);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_MIGRATION), NPAGES);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_restored(ctx, snap);
	KUNIT_ASSERT_EQ(test, vm_munmap(map, 3 * PUD_SIZE), 0);
}

/*
 * A range in a PUD with no page table below it, after written pages in the
 * PUD before: the walk meets the hole at PUD level (or above) and reports
 * every page of it as a hole to migrate, faulting nothing.
 */
static void hmm_migrate_pud_hole(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long map, addr, i;
	struct hmmk_prep p;

	map = hmmk_map_puds(ctx, 2);
	addr = ALIGN(map + NPAGES * PAGE_SIZE, PUD_SIZE);
	hmmk_write(ctx, addr - NPAGES * PAGE_SIZE, NPAGES);
	KUNIT_ASSERT_TRUE_MSG(test, hmmk_no_pmd_table(ctx, addr),
			      "the shape was not built: a PMD table maps the range");

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr - NPAGES * PAGE_SIZE,
					   2 * NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.npages, 2 * NPAGES);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 2 * NPAGES);
	for (i = NPAGES; i < 2 * NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], MIGRATE_PFN_MIGRATE,
				    "page %lu", i);
		if (*via == VIA_HMM)
			KUNIT_EXPECT_EQ_MSG(test,
					    p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_MIGRATE, "page %lu", i);
	}
	KUNIT_EXPECT_TRUE_MSG(test, hmmk_no_pmd_table(ctx, addr),
			      "a hole was faulted in");
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_balanced(ctx);
	KUNIT_ASSERT_EQ(test, vm_munmap(map, 3 * PUD_SIZE), 0);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* A tmpfs mounted huge=always: its files are backed by PMD sized folios */
static struct vfsmount *hmmk_mount_huge_tmpfs(struct kunit *test)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	struct fs_context *fc;
	struct vfsmount *mnt;

	KUNIT_ASSERT_NOT_NULL(test, type);
	fc = fs_context_for_mount(type, SB_KERNMOUNT);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fc));
	mnt = ERR_PTR(vfs_parse_fs_string(fc, "huge", "always"));
	if (!IS_ERR(mnt))
		mnt = fc_mount_longterm(fc);
	put_fs_context(fc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mnt));
	return mnt;
}

/*
 * One PMD of a new file of @mnt, written through a shared mapping, then
 * mapped @shared: the shared mapping itself, or a private one only read.
 */
static unsigned long hmmk_map_file_thp(struct hmmk *ctx, struct vfsmount *mnt,
				       bool shared)
{
	struct file *file;
	unsigned long addr;

	file = shmem_file_setup_with_mnt(mnt, "hmmk", PMD_SIZE,
					 mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(ctx->test, IS_ERR(file));
	/* tmpfs places the mappings PMD aligned for its huge folios */
	addr = vm_mmap(file, 0, PMD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	if (!IS_ERR_VALUE(addr)) {
		hmmk_write(ctx, addr, HMMK_PMD_PAGES);
		if (!shared) {
			vm_munmap(addr, PMD_SIZE);
			addr = vm_mmap(file, 0, PMD_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE, 0);
		}
	}
	fput(file);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	if (!shared)
		hmmk_read(ctx, addr, HMMK_PMD_PAGES);
	return addr;
}

/* The first word of each page of the PMD at @addr */
static u64 *hmmk_peek_pmd(struct hmmk *ctx, unsigned long addr)
{
	u64 *words = kunit_kcalloc(ctx->test, HMMK_PMD_PAGES, sizeof(*words),
				   GFP_KERNEL);
	unsigned long i;

	KUNIT_ASSERT_NOT_NULL(ctx->test, words);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		words[i] = hmmk_peek(ctx, addr + i * PAGE_SIZE);
	return words;
}
#endif

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/*
 * Prepare @n pages of a new file THP mapped @shared: @req as for
 * hmmk_prepare(). Each page prepared is a page with data, reported valid;
 * the data is as it was after the restore. Returns the pages prepared,
 * their src entries in @src.
 */
static unsigned long hmmk_file_thp_prepare(struct hmmk *ctx,
					   struct vfsmount *mnt, bool shared,
					   enum hmmk_via via, unsigned long req,
					   unsigned long n, unsigned long *src)
{
	struct kunit *test = ctx->test;
	const char *what = shared ? "shared" : "private";
	unsigned long addr, i, cpages;
	struct hmmk_prep p;
	u64 *before;

	addr = hmmk_map_file_thp(ctx, mnt, shared);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a file THP");
	before = hmmk_peek_pmd(ctx, addr);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, via, addr, n, req,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	for (i = 0; i < n; i++) {
		src[i] = p.migrate.src[i];
		if (src[i] & MIGRATE_PFN_MIGRATE)
			KUNIT_EXPECT_TRUE_MSG(test, migrate_pfn_to_page(src[i]),
					      "%s page %lu: data prepared as a hole",
					      what, i);
		if (via == VIA_HMM && (p.range.hmm_pfns[i] & HMM_PFN_MIGRATE))
			KUNIT_EXPECT_TRUE_MSG(test, p.range.hmm_pfns[i] & HMM_PFN_VALID,
					      "%s page %lu: data reported as a hole",
					      what, i);
	}
	cpages = p.migrate.cpages;
	hmmk_prep_restore(ctx, &p);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    before[i], "%s page %lu: data", what, i);
	hmmk_expect_balanced(ctx);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, PMD_SIZE), 0);
	return cpages;
}
#endif

/*
 * Part of a file THP (tmpfs huge=always), mapped shared and written, or
 * private and only read. Without a fault request the unified walk prepares
 * what migrate_vma_setup()'s own walk collects (7.2.8: nothing, it splits
 * the THP and skips the hole it leaves in a file VMA); with one, it faults
 * the pages back in and prepares each. Never a page with data as a hole,
 * and the data stays as it was.
 */
static void hmm_migrate_file_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	unsigned long ref[16], src[16], n = 16, i, cpages, ref_cpages;
	struct vfsmount *mnt;
	bool shared;

	mnt = hmmk_mount_huge_tmpfs(test);
	for (shared = false; ; shared = true) {
		const char *what = shared ? "shared" : "private";

		ref_cpages = hmmk_file_thp_prepare(ctx, mnt, shared, VIA_PLAIN,
						   0, n, ref);
		if (*via == VIA_HMM) {
			/* No fault request: as migrate_vma_setup() */
			cpages = hmmk_file_thp_prepare(ctx, mnt, shared, VIA_HMM,
						       0, n, src);
			KUNIT_EXPECT_EQ_MSG(test, cpages, ref_cpages,
					    "%s: cpages without a fault", what);
			for (i = 0; i < n; i++)
				KUNIT_EXPECT_EQ_MSG(test, src[i] & (MIGRATE_PFN_MIGRATE |
						    MIGRATE_PFN_COMPOUND),
						    ref[i] & (MIGRATE_PFN_MIGRATE |
						    MIGRATE_PFN_COMPOUND),
						    "%s page %lu without a fault", what, i);
		}
		if (*via != VIA_PLAIN) {
			cpages = hmmk_file_thp_prepare(ctx, mnt, shared, *via,
						       HMM_PFN_REQ_FAULT, n, src);
			KUNIT_EXPECT_EQ_MSG(test, cpages, n,
					    "%s: faulted in and prepared", what);
		}
		kunit_info(test, "%s file THP, %lu pages: migrate_vma_setup() collects %lu",
			   what, n, ref_cpages);
		if (shared)
			break;
	}
	kern_unmount(mnt);
#else
	kunit_skip(test, "needs CONFIG_TRANSPARENT_HUGEPAGE");
#endif
}

/*
 * Small file pages, then three file THPs, in one shared tmpfs mapping: each
 * THP must be split (no MIGRATE_VMA_SELECT_COMPOUND), which in a file clears
 * its PTEs, so its pages need faults that may wait while the small pages
 * are held. Every page is prepared all the same, in a bounded number of
 * passes: not -EBUSY once per THP.
 */
static void hmm_migrate_file_thps(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	unsigned long n = 4 * HMMK_PMD_PAGES, addr, i;
	struct vfsmount *mnt;
	struct hmmk_prep p;
	struct file *file;
	u64 *before;

	hmmk_need_thp(test);
	mnt = hmmk_mount_huge_tmpfs(test);
	file = shmem_file_setup_with_mnt(mnt, "hmmk", 4 * PMD_SIZE,
					 mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	addr = vm_mmap(file, 0, 4 * PMD_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	if (!IS_ERR_VALUE(addr)) {
		hmmk_write(ctx, addr, n);
		/* A hole punched in the first THP splits it into small pages */
		KUNIT_EXPECT_EQ(test, vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE |
						    FALLOC_FL_KEEP_SIZE,
						    PAGE_SIZE, PAGE_SIZE), 0);
		hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	}
	fput(file);
	HMMK_ASSERT_ADDR(test, addr);
	KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	for (i = 1; i < 4; i++)
		HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr + i * PMD_SIZE),
				 "file THPs");
	before = kunit_kcalloc(test, n, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	for (i = 0; i < n; i++)
		before[i] = hmmk_peek(ctx, addr + i * PAGE_SIZE);

	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, *via, addr, n,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE_MSG(test, migrate_pfn_to_page(p.migrate.src[i]) &&
				      (p.migrate.src[i] & MIGRATE_PFN_MIGRATE),
				      "page %lu not prepared", i);
	hmmk_prep_restore(ctx, &p);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    before[i], "page %lu: data", i);
	hmmk_expect_balanced(ctx);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, 4 * PMD_SIZE), 0);
	kern_unmount(mnt);
#else
	kunit_skip(test, "needs CONFIG_TRANSPARENT_HUGEPAGE");
#endif
}

/*
 * A VMA without VM_READ: for hmm_range_fault() as for any call, -EFAULT
 * when a page must be faulted (a fault would map it PROT_NONE, never valid),
 * else every page HMM_PFN_ERROR and none prepared; migrate_vma_setup()
 * with MIGRATE_VMA_FAULT faults nothing there.
 */
static void hmm_migrate_prot_none(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_prep p;
	struct file *file;
	unsigned long rw, addr, i;

	file = shmem_file_setup("hmmk-none", NPAGES * PAGE_SIZE,
				mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	rw = kunit_vm_mmap(test, file, 0, NPAGES * PAGE_SIZE,
			   PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	addr = kunit_vm_mmap(test, file, 0, NPAGES * PAGE_SIZE, PROT_NONE,
			     MAP_SHARED, 0);
	fput(file);
	HMMK_ASSERT_ADDR(test, rw);
	HMMK_ASSERT_ADDR(test, addr);
	hmmk_write(ctx, rw, NPAGES);

	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), -EFAULT);
	hmmk_expect_no_migrate_out(ctx, &p);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_ERROR, "page %lu", i);
	hmmk_prep_restore(ctx, &p);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_VMA, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES, HMMK_PTE_NONE),
			NPAGES);
	hmmk_expect_balanced(ctx);
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
	struct hmmk *ctx = hmmk_init(test);
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
	mmap_read_lock(ctx->mm);
	migrate_hmm_range_setup(&range);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, map, 2 * NPAGES);
}

/* Refused with -EINVAL before any page is touched */
static void hmm_migrate_bad_args(struct kunit *test)
{
	const struct hmm_bad_case *c = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
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
	if (c->system_fault_page)
		unlock_page(p.migrate.fault_page);

	/* migrate_vma_setup(MIGRATE_VMA_FAULT): no VMA, or a VM_PFNMAP one */
	if (c->pfnmap) {
		struct migrate_vma m;
		int no_vma, pfnmap;

		hmmk_migrate_init(ctx, &m, addr, NPAGES,
				  MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_FAULT);
		mmap_read_lock(ctx->mm);
		no_vma = migrate_vma_setup(&m);
		m.vma = vma_lookup(ctx->mm, addr);
		pfnmap = migrate_vma_setup(&m);
		mmap_read_unlock(ctx->mm);
		HMMK_EXPECT_RET(test, no_vma, -EINVAL);
		HMMK_EXPECT_RET(test, pfnmap, -EINVAL);
	}
	hmmk_expect_restored(ctx, snap);
}

/* Without a notifier the range's migrate->vma names the mm */
static void hmm_migrate_null_notifier(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
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
	struct hmmk *ctx = hmmk_init(test);
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
 * Only device private pages selected (no MIGRATE_VMA_SELECT_SYSTEM) over
 * system pages: each entry point prepares what plain migrate_vma_setup()
 * collects there (in 7.2.8: the pte_none holes of an anonymous VMA, not the
 * zero page, no system page) and faults nothing for them; hmm_range_fault()
 * reports and faults every other page as it does without
 * HMM_PFN_REQ_MIGRATE, and migrate_vma_setup() with MIGRATE_VMA_FAULT
 * faults nothing (a fault only brings system pages).
 */
static void hmm_migrate_select_device_only(struct kunit *test)
{
	static const enum hmmk_state states[NPAGES] = {
		HMMK_ANON, HMMK_ZERO, HMMK_NONE, HMMK_FREED,
		HMMK_ANON, HMMK_ZERO, HMMK_NONE, HMMK_ANON,
	};
	const unsigned long select = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long plain_src[NPAGES], plain_cpages;
	enum hmmk_pte before[NPAGES];
	unsigned long ref_addr, addr, i;
	struct hmm_range ref;
	struct hmmk_prep p;

	ref_addr = hmmk_map_anon(ctx, NPAGES);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, ref_addr, states, NPAGES);
	hmmk_set_states(ctx, addr, states, NPAGES);
	for (i = 0; i < NPAGES; i++)
		before[i] = hmmk_pte(ctx, addr + i * PAGE_SIZE);

	/* The references: plain migrate_vma_setup(), hmm_range_fault() alone */
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_PLAIN, addr, NPAGES, 0,
					   select), 0);
	memcpy(plain_src, p.migrate.src, sizeof(plain_src));
	plain_cpages = p.migrate.cpages;
	hmmk_prep_restore(ctx, &p);
	hmmk_range_init(ctx, &ref, ref_addr, NPAGES, HMM_PFN_REQ_FAULT);
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &ref), 0);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT, select), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, plain_cpages);
	for (i = 0; i < NPAGES; i++) {
		unsigned long a = addr + i * PAGE_SIZE;
		bool hole = plain_src[i] & MIGRATE_PFN_MIGRATE;

		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], plain_src[i],
				    "page %lu: not as plain migrate_vma_setup()", i);
		KUNIT_EXPECT_FALSE_MSG(test, migrate_pfn_to_page(p.migrate.src[i]),
				       "page %lu: a system page prepared", i);
		if (*via == VIA_VMA || hole) {
			KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, a), before[i],
					    "page %lu faulted", i);
			if (*via == VIA_HMM)
				KUNIT_EXPECT_EQ_MSG(test,
						    p.range.hmm_pfns[i] & HMMK_FLAGS,
						    HMM_PFN_MIGRATE,
						    "hole %lu", i);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    ref.hmm_pfns[i] & HMMK_FLAGS,
				    "page %lu: not as hmm_range_fault() alone", i);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, a),
				    hmmk_pte(ctx, ref_addr + i * PAGE_SIZE),
				    "page %lu", i);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * HMM_PFN_REQ_WRITE in a read-only anonymous VMA with holes and zero pages:
 * -EPERM as hmm_range_fault() alone returns, nothing prepared, nothing
 * changed. A hole needs no fault, but may not be filled writable either.
 */
static void hmm_migrate_write_rdonly(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
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

static const struct hmm_change_case hmm_change_cases[] = {
	{ "MADV_DONTNEED", CHANGE_DONTNEED },
	{ "remapped read-only", CHANGE_REMAP_RDONLY },
	{ "THP split", CHANGE_SPLIT },
	{ "THP collapsed", CHANGE_COLLAPSE },
	{ "NUMA hinting", CHANGE_NUMA },
	{ "moved to the device", CHANGE_TO_DEVICE },
};

static void hmm_change_cases_desc(struct kunit *test, const void *param,
				  char *desc)
{
	const struct hmm_change_case *c = param;

	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

static int hmm_change_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_change_cases,
				    ARRAY_SIZE(hmm_change_cases),
				    hmm_change_cases_desc);
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
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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
 * Our MMU_NOTIFY_MIGRATE invalidation, with pgmap_owner as owner, brackets
 * the PTE changes and is ended before any fault: a driver's fault path may
 * wait for the invalidations of the range to end. The faults here (COW
 * breaks) start invalidations of their own.
 */
static void hmm_migrate_notifier(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
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

/* migrate_vma_setup() without MIGRATE_VMA_FAULT: 7.2.8's behaviour */
static void hmm_migrate_plain_setup(struct kunit *test)
{
	static const enum hmmk_state states[NPAGES] = {
		HMMK_ANON, HMMK_NONE, HMMK_ZERO, HMMK_FREED,
		HMMK_ANON, HMMK_ANON, HMMK_NONE, HMMK_ZERO,
	};
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_snap *snap;
	struct migrate_vma m;
	unsigned long addr, file, i;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, addr, states, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	hmmk_migrate_init(ctx, &m, addr, NPAGES, MIGRATE_VMA_SELECT_SYSTEM);
	mmap_read_lock(ctx->mm);
	m.vma = vma_lookup(ctx->mm, addr);
	ret = migrate_vma_setup(&m);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, m.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, m.src[i], states[i] == HMMK_ANON ?
				    hmmk_src_of(snap->p[i].page, true) :
				    MIGRATE_PFN_MIGRATE, "page %lu", i);
	mmap_read_lock(ctx->mm);
	hmmk_restore(&m);
	mmap_read_unlock(ctx->mm);
	hmmk_expect_restored(ctx, snap);

	/* A range beyond its VMA is refused, nothing touched */
	hmmk_migrate_init(ctx, &m, addr, NPAGES + 1, MIGRATE_VMA_SELECT_SYSTEM);
	mmap_read_lock(ctx->mm);
	m.vma = vma_lookup(ctx->mm, addr);
	ret = migrate_vma_setup(&m);
	mmap_read_unlock(ctx->mm);
	HMMK_EXPECT_RET(test, ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, m.cpages, 0);

	/* Unmapped file pages are neither faulted nor collected */
	file = hmmk_map_shmem(ctx, NPAGES, true);
	hmmk_write(ctx, file, NPAGES);
	hmmk_dontneed(ctx, file, NPAGES);
	hmmk_migrate_init(ctx, &m, file, NPAGES, MIGRATE_VMA_SELECT_SYSTEM);
	mmap_read_lock(ctx->mm);
	m.vma = vma_lookup(ctx->mm, file);
	ret = migrate_vma_setup(&m);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, m.cpages, 0);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, file, NPAGES, HMMK_PTE_NONE),
			NPAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * Our own device pages: prepared with MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
 * else reported as they are, never faulted back.
 */
static void hmm_migrate_device_own(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
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
	struct hmmk *ctx = hmmk_init(test);
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

/* Another owner's device pages: faulted back to RAM, then prepared */
static void hmm_migrate_device_foreign(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
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

struct hmm_thp_case {
	const char *desc;
	enum hmmk_via via;
	bool compound;
	long first, npages;	/* the range, in pages from the THP */
};

static const struct hmm_thp_case hmm_thp_cases[] = {
	{ "hmm_range_fault, compound", VIA_HMM, true, 0, 512 },
	{ "migrate_vma_setup, compound", VIA_VMA, true, 0, 512 },
	{ "hmm_range_fault, split", VIA_HMM, false, 0, 512 },
	{ "migrate_vma_setup, split", VIA_VMA, false, 0, 512 },
	{ "hmm_range_fault, range inside", VIA_HMM, true, 100, 8 },
	{ "migrate_vma_setup, range inside", VIA_VMA, true, 100, 8 },
};

static void hmm_thp_cases_desc(struct kunit *test, const void *param,
			       char *desc)
{
	const struct hmm_thp_case *c = param;

	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

static int hmm_thp_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_thp_cases, ARRAY_SIZE(hmm_thp_cases),
				    hmm_thp_cases_desc);
	return 0;
}

/*
 * A PMD mapped THP: one unit with MIGRATE_VMA_SELECT_COMPOUND and a range
 * covering it, else split and prepared page by page.
 */
static void hmm_migrate_thp(struct kunit *test)
{
	const struct hmm_thp_case *c = test->param_value;
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long addr, start, i;
	bool compound;
	struct hmmk_prep p;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	if (c->compound)
		select |= MIGRATE_VMA_SELECT_COMPOUND;
	compound = c->compound && c->npages == HMMK_PMD_PAGES;
	start = addr + c->first * PAGE_SIZE;

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, c->via, start, c->npages,
					   HMM_PFN_REQ_FAULT, select), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, compound ? 1 : c->npages);
	KUNIT_EXPECT_TRUE(test, p.migrate.src[0] & MIGRATE_PFN_MIGRATE);
	KUNIT_EXPECT_EQ(test, !!(p.migrate.src[0] & MIGRATE_PFN_COMPOUND),
			compound);
	for (i = 1; i < c->npages; i++)
		KUNIT_EXPECT_EQ_MSG(test, !!p.migrate.src[i], !compound,
				    "src[%lu] = %#lx", i, p.migrate.src[i]);
	for (i = 0; c->via == VIA_HMM && i < c->npages; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE |
				    HMM_PFN_MIGRATE |
				    (compound ? HMM_PFN_COMPOUND : 0),
				    "page %lu", i);
	KUNIT_EXPECT_EQ(test, hmmk_pmd_mapped(ctx, addr), compound);

	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
					     HMMK_PTE_MIGRATION), 0);
	for (i = 0; i < HMMK_PMD_PAGES; i += 37)
		KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				hmmk_tag(ctx, addr + i * PAGE_SIZE));
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

/* The huge zero page: holes, one unit or page by page; never faulted */
static void hmm_migrate_huge_zero(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_read(ctx, addr, 1);
	HMMK_SKIP_UNLESS(test, hmmk_pte(ctx, addr) == HMMK_PTE_ZERO &&
			 hmmk_pmd_mapped(ctx, addr), "the huge zero page");

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
	KUNIT_EXPECT_EQ(test, p.migrate.src[0],
			MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND);
	hmmk_prep_restore(ctx, &p);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, 16,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 16);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, p.migrate.src[i], MIGRATE_PFN_MIGRATE);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

/* A THP mapped by PTEs (its PMD split by a partial MADV_DONTNEED) */
static void hmm_migrate_pte_mapped_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long addr, n = HMMK_PMD_PAGES - 1;
	struct hmmk_snap *snap;
	struct hmmk_prep p;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	hmmk_dontneed(ctx, addr + n * PAGE_SIZE, 1);
	KUNIT_ASSERT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_TRUE(test,
			  folio_test_large(page_folio(hmmk_page(ctx, addr))));

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, n,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	hmmk_prep_restore(ctx, &p);
	snap = hmmk_snapshot(ctx, addr, n);
	KUNIT_EXPECT_FALSE(test, folio_test_large(page_folio(snap->p[0].page)));
	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr + 7 * PAGE_SIZE),
			hmmk_tag(ctx, addr + 7 * PAGE_SIZE));
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * A device private THP of ours: one unit with MIGRATE_VMA_SELECT_COMPOUND,
 * else split. Neither may loop forever.
 */
static void hmm_migrate_device_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long addr, select;
	struct hmmk_prep p;

	hmmk_need_thp(test);
	hmmk_need_device(ctx);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	hmmk_to_device(ctx, ctx->dev, addr, HMMK_PMD_PAGES, true);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));

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
 * Another driver's device private THP, mapped by a PMD: not ours, so without
 * a fault request it is neither prepared nor reported valid, whatever the
 * selection (HMM_PFN_ERROR, as for any non-present PMD nobody faults).
 */
static void hmm_migrate_foreign_device_thp(struct kunit *test)
{
	struct hmmk *ctx = hmmk_init(test);
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_thp(test);
	hmmk_need_device(ctx);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	hmmk_to_device(ctx, ctx->foreign, addr, HMMK_PMD_PAGES, true);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
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

static struct kunit_case hmm_migrate_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_migrate_present, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_holes, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_dontneed_4m, hmm_big_cases),
	KUNIT_CASE(hmm_migrate_write_fault),
	HMMK_CASE_PARAMS(hmm_migrate_file_unmapped, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_no_page_table, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_waits_for_entry, hmmk_vias),
	KUNIT_CASE(hmm_migrate_skips_entry),
	KUNIT_CASE(hmm_migrate_rollback_sigbus),
	KUNIT_CASE(hmm_migrate_vma_fault_best_effort),
	KUNIT_CASE(hmm_migrate_vma_fault_select),
	KUNIT_CASE(hmm_migrate_rollback_eperm),
	HMMK_CASE_PARAMS(hmm_migrate_busy_pages, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_unsplittable_thp, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_bad_args, hmm_bad_cases),
	KUNIT_CASE(hmm_migrate_per_pfn),
	KUNIT_CASE(hmm_migrate_per_pfn_repass),
	KUNIT_CASE(hmm_migrate_numa_hint),
	HMMK_CASE_PARAMS(hmm_migrate_device_exclusive, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_uffd_wp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_hwpoison, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_mthp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_unsplittable_mthp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_pud_cross, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_pud_hole, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_file_thp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_file_thps, hmmk_vias),
	KUNIT_CASE(hmm_migrate_prot_none),
	KUNIT_CASE(hmm_migrate_per_pfn_requests_kept),
	KUNIT_CASE(hmm_migrate_ebusy),
	KUNIT_CASE(hmm_migrate_retry_unmapped),
	KUNIT_CASE(hmm_migrate_retry_after_success),
	HMMK_CASE_PARAMS(hmm_migrate_retry_changed, hmm_change_cases),
	KUNIT_CASE(hmm_migrate_retry_invalidated),
	KUNIT_CASE(hmm_migrate_reuse_chunks),
	HMMK_CASE_PARAMS(hmm_migrate_select_device_only, hmmk_vias),
	KUNIT_CASE(hmm_migrate_write_rdonly),
	KUNIT_CASE(hmm_migrate_notifier),
	KUNIT_CASE(hmm_migrate_plain_setup),
	HMMK_CASE_PARAMS(hmm_migrate_device_own, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_device_foreign, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_foreign_unlocked, hmmk_vias),
	KUNIT_CASE(hmm_migrate_device_cpu_fault),
	HMMK_CASE_PARAMS(hmm_migrate_thp, hmm_thp_cases),
	HMMK_CASE_PARAMS(hmm_migrate_huge_zero, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_pte_mapped_thp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_device_thp, hmmk_vias),
	KUNIT_CASE(hmm_migrate_foreign_device_thp),
	/* Last: an implementation that dereferences NULL crashes here */
	KUNIT_CASE(hmm_migrate_null_notifier),
	{}
};

static struct kunit_suite hmm_migrate_test_suite = {
	.name = "hmm_migrate",
	.test_cases = hmm_migrate_test_cases,
};

/*
 * Swap and KSM: states that need swap space and ksmd running, which the
 * guest's init sets up (zram swap, /sys/kernel/mm/ksm/run) before it runs
 * this suite again through debugfs. At boot there is no swap: it skips.
 */
static void hmmk_need_swap(struct kunit *test)
{
	if (total_swap_pages <= 0)
		kunit_skip(test, "needs swap: runs in the swap tier (ci/swap.sh)");
}

/*
 * KUnit keeps each case's status from the last run and runs no case whose
 * status says skipped (it takes it for filtered out). The boot run skipped
 * every case here: once there is swap, clear that so they run again.
 */
static int hmm_swap_suite_init(struct kunit_suite *suite)
{
	struct kunit_case *c;

	if (total_swap_pages > 0)
		kunit_suite_for_each_test_case(suite, c)
			c->status = KUNIT_SUCCESS;
	return 0;
}

/*
 * Written pages swapped out (MADV_PAGEOUT): with a fault request both
 * entry points swap every page in and prepare it; the plain call collects
 * none, as in 7.2.8, and leaves them on swap.
 */
static void hmm_swap_entries(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long addr, i;
	struct hmmk_prep p;

	hmmk_need_swap(test);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	KUNIT_ASSERT_EQ(test, do_madvise(ctx->mm, addr, NPAGES * PAGE_SIZE,
					 MADV_PAGEOUT), 0);
	KUNIT_ASSERT_EQ_MSG(test, hmmk_count_pte(ctx, addr, NPAGES,
						 HMMK_PTE_SWAP), NPAGES,
			    "MADV_PAGEOUT did not swap every page out");

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	if (*via == VIA_PLAIN) {
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
		KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
						     HMMK_PTE_SWAP), NPAGES);
	} else {
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
		for (i = 0; i < NPAGES; i++)
			KUNIT_EXPECT_TRUE_MSG(test,
					      migrate_pfn_to_page(p.migrate.src[i]) &&
					      (p.migrate.src[i] & MIGRATE_PFN_MIGRATE),
					      "page %lu not prepared", i);
		KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
						     HMMK_PTE_MIGRATION), NPAGES);
	}
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
}

/*
 * Pages swapped out and read back in: mapped again and still in the swap
 * cache (a read fault keeps the swap slot). Each entry point prepares them
 * as plain migrate_vma_setup() does, and after the restore they are mapped
 * with their data, the swap cache's reference neither lost nor doubled.
 */
static void hmm_swap_cache(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = hmmk_init(test);
	unsigned long plain_src[NPAGES];
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	hmmk_need_swap(test);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	KUNIT_ASSERT_EQ(test, do_madvise(ctx->mm, addr, NPAGES * PAGE_SIZE,
					 MADV_PAGEOUT), 0);
	KUNIT_ASSERT_EQ_MSG(test, hmmk_count_pte(ctx, addr, NPAGES,
						 HMMK_PTE_SWAP), NPAGES,
			    "MADV_PAGEOUT did not swap every page out");
	hmmk_read(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_ASSERT_TRUE_MSG(test, snap->p[i].page &&
				      folio_test_swapcache(page_folio(snap->p[i].page)),
				      "page %lu is not a mapped swap cache page: is swap on a synchronous device (zram)? Its swap-in frees the swap cache",
				      i);

	/* The reference: what plain migrate_vma_setup() collects */
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_PLAIN, addr, NPAGES, 0,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	memcpy(plain_src, p.migrate.src, sizeof(plain_src));
	hmmk_prep_restore(ctx, &p);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i], plain_src[i],
				    "page %lu", i);
		KUNIT_EXPECT_PTR_EQ_MSG(test,
					migrate_pfn_to_page(p.migrate.src[i]),
					snap->p[i].page, "page %lu", i);
	}
	hmmk_prep_restore(ctx, &p);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test,
				      folio_test_swapcache(page_folio(snap->p[i].page)),
				      "page %lu left the swap cache", i);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_unmap(ctx, addr, NPAGES);
}

#define HMMK_KSM_WORD	0x4b534d4b534d4b53ULL	/* every page alike */

/*
 * Pages with the same content, merged by ksmd into one KSM folio mapped
 * NPAGES times in the range: each entry point prepares the mappings plain
 * migrate_vma_setup() collects (it locks the folio at the first and cannot
 * at the others), returns without waiting for its own lock, and the data
 * stays.
 */
static void hmm_swap_ksm(struct kunit *test)
{
	static const enum hmmk_via vias[] = { VIA_PLAIN, VIA_HMM, VIA_VMA };
	struct hmmk *ctx = hmmk_init(test);
	unsigned long addr, i, v, merged = 0;
	bool plain[NPAGES], collected;
	struct hmmk_prep p;
	struct page *page;
	int tries, ret;

	if (!IS_ENABLED(CONFIG_KSM))
		kunit_skip(test, "needs CONFIG_KSM");
	hmmk_need_swap(test);
	addr = hmmk_map_anon(ctx, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_ASSERT_EQ(test, put_user(HMMK_KSM_WORD,
					       (u64 __user *)(addr + i * PAGE_SIZE)),
				0);
	KUNIT_ASSERT_EQ(test, do_madvise(ctx->mm, addr, NPAGES * PAGE_SIZE,
					 MADV_MERGEABLE), 0);
	/* ksmd scans every 20 ms: give it ten seconds */
	for (tries = 0; tries < 100 && merged < NPAGES; tries++) {
		msleep(100);
		for (merged = 0, i = 0; i < NPAGES; i++) {
			page = hmmk_page(ctx, addr + i * PAGE_SIZE);
			merged += page && folio_test_ksm(page_folio(page));
		}
	}
	KUNIT_ASSERT_EQ_MSG(test, merged, NPAGES,
			    "ksmd merged %lu of %d pages: is /sys/kernel/mm/ksm/run 1?",
			    merged, NPAGES);

	for (v = 0; v < ARRAY_SIZE(vias); v++) {
		ret = hmmk_prepare(ctx, &p, vias[v], addr, NPAGES,
				   HMM_PFN_REQ_FAULT, MIGRATE_VMA_SELECT_SYSTEM);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", hmmk_via_name(vias[v]));
		if (ret)
			continue;
		for (i = 0; i < NPAGES; i++) {
			collected = p.migrate.src[i] & MIGRATE_PFN_MIGRATE;
			if (vias[v] == VIA_PLAIN)
				plain[i] = collected;
			else
				KUNIT_EXPECT_EQ_MSG(test, collected, plain[i],
						    "%s: page %lu prepared %d, plain migrate_vma_setup() %d",
						    hmmk_via_name(vias[v]), i, collected,
						    plain[i]);
		}
		kunit_info(test, "%s: %lu of %d mappings of the KSM folio prepared",
			   hmmk_via_name(vias[v]), p.migrate.cpages, NPAGES);
		hmmk_prep_restore(ctx, &p);
		for (i = 0; i < NPAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test,
					    hmmk_peek(ctx, addr + i * PAGE_SIZE),
					    HMMK_KSM_WORD, "%s: page %lu data",
					    hmmk_via_name(vias[v]), i);
	}
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, NPAGES);
}

static struct kunit_case hmm_swap_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_swap_entries, hmmk_vias_plain),
	KUNIT_CASE(hmm_swap_ksm),
	{}
};

/* On a synchronous swap device (zram): swap-in bypasses the swap cache */
static struct kunit_suite hmm_swap_test_suite = {
	.name = "hmm_swap",
	.suite_init = hmm_swap_suite_init,
	.test_cases = hmm_swap_test_cases,
};

static struct kunit_case hmm_swapcache_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_swap_entries, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_swap_cache, hmmk_vias),
	{}
};

/*
 * On a swap device that keeps the swap cache (a disk, here a loop device):
 * swap-in reads ahead into the swap cache, and a folio read back stays
 * there, mapped, while its slot is kept.
 */
static struct kunit_suite hmm_swapcache_test_suite = {
	.name = "hmm_swapcache",
	.suite_init = hmm_swap_suite_init,
	.test_cases = hmm_swapcache_test_cases,
};

kunit_test_suites(&hmm_migrate_test_suite, &hmm_swap_test_suite,
		  &hmm_swapcache_test_suite);
