// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the migrate-prepare walk: hmm_range_fault() with
 * HMM_PFN_REQ_MIGRATE followed by migrate_hmm_range_setup(), and
 * migrate_vma_setup() with MIGRATE_VMA_FAULT. This file: the helpers the
 * hmm_migrate* suites share, and the hmm_migrate suite, system pages of
 * every kind (anonymous, zero page, file, migration entries, NUMA hinting,
 * uffd-wp, hwpoison, device-exclusive) at every page table level.
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

static const enum hmmk_via hmmk_vias[] = { VIA_HMM, VIA_VMA };
/* For states that need no fault: the plain call must prepare them too */
static const enum hmmk_via hmmk_vias_plain[] = { VIA_HMM, VIA_VMA, VIA_PLAIN };

const char *hmmk_via_name(enum hmmk_via via)
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

int hmmk_vias_init(struct kunit *test)
{
	kunit_register_params_array(test, hmmk_vias, ARRAY_SIZE(hmmk_vias),
				    hmmk_vias_desc);
	return 0;
}

int hmmk_vias_plain_init(struct kunit *test)
{
	kunit_register_params_array(test, hmmk_vias_plain,
				    ARRAY_SIZE(hmmk_vias_plain), hmmk_vias_desc);
	return 0;
}

/* Every page of [addr, + npages) holds its tag, as the CPU reads it */
void hmmk_expect_data(struct hmmk *ctx, unsigned long addr,
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
 * After a successful walk, what a driver does with pages it ends up not
 * migrating: migrate_hmm_range_setup(), then everything put back, under the
 * mmap lock the walk held.
 */
void hmmk_setup_restore(struct hmmk *ctx, struct hmm_range *range,
			struct migrate_vma *migrate)
{
	mmap_read_lock(ctx->mm);
	migrate_hmm_range_setup(range);
	hmmk_restore(migrate);
	mmap_read_unlock(ctx->mm);
}

/*
 * Right after a successful hmm_range_fault() with HMM_PFN_REQ_MIGRATE, the
 * mmap lock still held, before migrate_hmm_range_setup() (whose unmap would
 * replace any page still mapped): what the walk itself did. Each page it
 * says is prepared is mapped by a migration entry to the page in src
 * (+ its offset in a compound unit), locked; a hole is not mapped; the
 * output agrees with src, pfn and order included; cpages counts src.
 */
void hmmk_expect_walk_prepared(struct hmmk *ctx,
			       struct hmm_range *range,
			       struct migrate_vma *migrate)
{
	unsigned long i, n = (range->end - range->start) >> PAGE_SHIFT;
	struct kunit *test = ctx->test;
	struct page *unit = NULL;	/* the head of a compound unit */
	unsigned long in_unit = 0, in_src = 0;

	for (i = 0; i < n; i++) {
		unsigned long addr = range->start + i * PAGE_SIZE;
		unsigned long out = range->hmm_pfns[i], src = migrate->src[i];
		struct page *page, *mapped;
		enum hmmk_pte pte;

		in_src += !!(src & MIGRATE_PFN_MIGRATE);
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
	/* One per src entry, a compound unit's too, as migrate_vma_setup() */
	KUNIT_EXPECT_EQ_MSG(test, migrate->cpages, in_src,
			    "cpages is not the number of entries src holds");
}

/*
 * One walk as a driver makes it: hmm_range_fault(), what it did checked
 * before anything else can change it, then migrate_hmm_range_setup(), with
 * the mmap lock held throughout.
 */
int hmmk_walk_once(struct hmmk *ctx, struct hmm_range *range,
		   struct migrate_vma *migrate)
{
	int ret;

	range->notifier_seq = mmu_interval_read_begin(&ctx->mni);
	mmap_read_lock(ctx->mm);
	ret = hmm_range_fault(range);
	if (!ret) {
		hmmk_expect_walk_prepared(ctx, range, migrate);
		migrate_hmm_range_setup(range);
	}
	mmap_read_unlock(ctx->mm);
	return ret;
}

/*
 * Prepare [addr, addr + npages pages) with the walk under test: @req are the
 * hmm request flags (VIA_VMA always faults for read, VIA_PLAIN never), @select the
 * MIGRATE_VMA_SELECT_* flags. The mmap lock is held from the walk to the
 * end of the setup, as a driver holds it.
 */
int hmmk_prepare(struct hmmk *ctx, struct hmmk_prep *p,
		 enum hmmk_via via, unsigned long addr,
		 unsigned long npages, unsigned long req,
		 unsigned long select)
{
	int tries = 16;
	unsigned long i;
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
	/*
	 * Stale outputs of an earlier call in the array: with no
	 * pfn_flags_mask they are no requests, and every entry is written
	 */
	for (i = 0; i < npages; i++)
		p->range.hmm_pfns[i] = HMM_PFN_VALID | HMM_PFN_ERROR |
				       HMM_PFN_MIGRATE;
	do {
		ret = hmmk_walk_once(ctx, &p->range, &p->migrate);
	} while (ret == -EBUSY && --tries);
	return ret;
}

/*
 * Prepare with @via what plain migrate_vma_setup() prepared and put back
 * first, the reference: every src entry must be as plain's. Returns what
 * @via's prepare returned.
 */
int hmmk_prepare_as_plain(struct hmmk *ctx, struct hmmk_prep *p,
			  enum hmmk_via via, unsigned long addr,
			  unsigned long npages, unsigned long req,
			  unsigned long select)
{
	struct kunit *test = ctx->test;
	unsigned long *plain, i;
	int ret;

	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, p, VIA_PLAIN, addr, npages, 0,
					   select), 0);
	plain = kunit_kmalloc_array(test, npages, sizeof(*plain), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, plain);
	memcpy(plain, p->migrate.src, npages * sizeof(*plain));
	hmmk_prep_restore(ctx, p);

	ret = hmmk_prepare(ctx, p, via, addr, npages, req, select);
	for (i = 0; !ret && i < npages; i++)
		KUNIT_EXPECT_EQ_MSG(test, p->migrate.src[i], plain[i],
				    "page %lu: not as plain migrate_vma_setup()",
				    i);
	return ret;
}

void hmmk_prep_restore(struct hmmk *ctx, struct hmmk_prep *p)
{
	mmap_read_lock(ctx->mm);
	hmmk_restore(&p->migrate);
	mmap_read_unlock(ctx->mm);
}

/* After an error no page is reported as prepared */
void hmmk_expect_no_migrate_out(struct hmmk *ctx, struct hmmk_prep *p)
{
	unsigned long i, n = (p->range.end - p->range.start) >> PAGE_SHIFT;

	if (p->via != VIA_HMM)
		return;
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_FALSE_MSG(ctx->test,
				       p->range.hmm_pfns[i] & HMM_PFN_MIGRATE,
				       "page %lu", i);
	KUNIT_EXPECT_EQ(ctx->test, p->migrate.cpages, 0);
}

unsigned long hmmk_src_of(struct page *page, bool write)
{
	return migrate_pfn(page_to_pfn(page)) | MIGRATE_PFN_MIGRATE |
	       (write ? MIGRATE_PFN_WRITE : 0);
}

/* Every page of @snap prepared, writable, as the page it was */
void hmmk_expect_prepared(struct hmmk *ctx, struct migrate_vma *m,
			  struct hmmk_snap *snap)
{
	unsigned long i;

	KUNIT_EXPECT_EQ(ctx->test, m->cpages, snap->npages);
	for (i = 0; i < snap->npages; i++)
		KUNIT_EXPECT_EQ_MSG(ctx->test, m->src[i],
				    hmmk_src_of(snap->p[i].page, true),
				    "page %lu", i);
}

void hmmk_need_thp(struct kunit *test)
{
	HMMK_SKIP_UNLESS(test, thp_migration_supported(), "THP migration");
}

void hmmk_need_device(struct hmmk *ctx)
{
	HMMK_SKIP_UNLESS(ctx->test, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
			 "CONFIG_DEVICE_PRIVATE");
	KUNIT_ASSERT_EQ(ctx->test, hmmk_dev_init(ctx), 0);
}

/*
 * One THP, written and moved as one device private folio to our device, or
 * to the other owner's if @foreign, mapped by a PMD; skips the case where
 * THP migration, device memory or a THP allocation is missing.
 */
unsigned long hmmk_device_thp(struct hmmk *ctx, bool foreign)
{
	struct kunit *test = ctx->test;
	unsigned long addr;

	hmmk_need_thp(test);
	hmmk_need_device(ctx);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	/* Not before: hmmk_need_device() creates the devices */
	hmmk_to_device(ctx, foreign ? ctx->foreign : ctx->dev, addr,
		       HMMK_PMD_PAGES, true);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	return addr;
}

/*
 * Written pages, every other one then lazily freed (MADV_FREE: its PTE and
 * folio clean): each one replaced by a migration entry, then put back as it
 * was, the lazily freed ones still clean.
 */
static void hmm_migrate_present(struct kunit *test)
{
	static const enum hmmk_state states[NPAGES] = {
		HMMK_ANON, HMMK_LAZYFREE, HMMK_ANON, HMMK_LAZYFREE,
		HMMK_ANON, HMMK_LAZYFREE, HMMK_ANON, HMMK_LAZYFREE,
	};
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, addr, states, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	/* Verify the fixture: MADV_FREE left the page mapped, clean */
	for (i = 1; i < NPAGES; i += 2) {
		KUNIT_ASSERT_EQ(test, snap->p[i].pte, HMMK_PTE_PRESENT);
		KUNIT_ASSERT_FALSE(test, snap->p[i].bits & HMMK_DIRTY);
		KUNIT_ASSERT_FALSE(test, snap->p[i].dirty);
	}

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
	struct hmmk *ctx = test->priv;
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

static_assert(offsetof(struct hmm_big_case, desc) == 0);

static const struct hmm_big_case hmm_big_cases[] = {
	{ "hmm_range_fault, 4k pages", VIA_HMM, false },
	{ "migrate_vma_setup, 4k pages", VIA_VMA, false },
	{ "hmm_range_fault, THPs", VIA_HMM, true },
	{ "migrate_vma_setup, THPs", VIA_VMA, true },
};

static int hmm_big_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_big_cases,
				    ARRAY_SIZE(hmm_big_cases), hmmk_desc);
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
	struct hmmk *ctx = test->priv;
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
 * Read-only file pages of a private mapping: without a write request every
 * walk prepares the page cache pages as they are, read-only. With
 * HMM_PFN_REQ_WRITE the walk breaks COW, and the new anonymous pages are
 * prepared writable.
 */
static void hmm_migrate_write_fault(struct kunit *test)
{
	static const enum hmmk_via vias[] = { VIA_PLAIN, VIA_VMA, VIA_HMM };
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i, v;

	addr = hmmk_map_shmem(ctx, NPAGES, false);
	hmmk_read(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	for (v = 0; v < ARRAY_SIZE(vias); v++) {
		HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, vias[v], addr,
						   NPAGES, HMM_PFN_REQ_FAULT,
						   MIGRATE_VMA_SELECT_SYSTEM), 0);
		KUNIT_EXPECT_EQ_MSG(test, p.migrate.cpages, NPAGES, "%s",
				    hmmk_via_name(vias[v]));
		for (i = 0; i < NPAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, p.migrate.src[i],
					    hmmk_src_of(snap->p[i].page, false),
					    "%s: page %lu", hmmk_via_name(vias[v]), i);
		hmmk_prep_restore(ctx, &p);
		hmmk_expect_restored(ctx, snap);
	}

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
	struct hmmk *ctx = test->priv;
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
	struct hmmk *ctx = test->priv;
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

	/*
	 * Without a fault request, nothing there can be prepared: where the
	 * PTEs are none, nor where no page table is yet (a new mapping)
	 */
	hmmk_dontneed(ctx, addr, NPAGES);
	for (i = 0; i < 2; i++) {
		if (i) {
			/* Alone in a PMD: no other mapping's PTEs there */
			unsigned long at = hmmk_map_thp(ctx, 1);
			struct file *file;

			file = shmem_file_setup("hmmk", NPAGES * PAGE_SIZE,
						mk_vma_flags(VMA_NORESERVE_BIT));
			KUNIT_ASSERT_FALSE(test, IS_ERR(file));
			addr = vm_mmap(file, at, NPAGES * PAGE_SIZE,
				       PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_FIXED, 0);
			fput(file);
			KUNIT_ASSERT_EQ(test, addr, at);
			KUNIT_ASSERT_FALSE(test, hmmk_pte_table(ctx, addr));
		}
		HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
						   NPAGES, 0,
						   MIGRATE_VMA_SELECT_SYSTEM), 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
		KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
						     HMMK_PTE_NONE), NPAGES);
		KUNIT_EXPECT_EQ(test, p.range.hmm_pfns[NPAGES - 1] & HMMK_FLAGS,
				0);
	}
}

/*
 * A migration entry of someone else's migration: with a fault request the
 * walk waits until it goes away, then prepares the page.
 */
static void hmm_migrate_waits_for_entry(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
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

/* What follows the pages a wait puts back, in the next PMD */
enum hmmk_after {
	AFTER_NO_TABLE,		/* untouched: no page table */
	AFTER_THP,		/* a PMD-mapped anonymous THP */
	AFTER_HUGE_ZERO,	/* the huge zero page */
};

struct hmm_after_case {
	const char *desc;
	enum hmmk_after after;
	enum hmmk_via via;
};

static_assert(offsetof(struct hmm_after_case, desc) == 0);

static const struct hmm_after_case hmm_after_cases[] = {
	{ "no page table, hmm_range_fault", AFTER_NO_TABLE, VIA_HMM },
	{ "no page table, migrate_vma_setup", AFTER_NO_TABLE, VIA_VMA },
	{ "THP, hmm_range_fault", AFTER_THP, VIA_HMM },
	{ "THP, migrate_vma_setup", AFTER_THP, VIA_VMA },
	{ "huge zero page, hmm_range_fault", AFTER_HUGE_ZERO, VIA_HMM },
	{ "huge zero page, migrate_vma_setup", AFTER_HUGE_ZERO, VIA_VMA },
};

static int hmm_after_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_after_cases,
				    ARRAY_SIZE(hmm_after_cases), hmmk_desc);
	return 0;
}

/*
 * Pages 0 and 1 are prepared, pages 2 and 3 are another migration's entries
 * asked to fault: the walk puts pages 0 and 1 back, waits, and walks the
 * rest of the range only to fault what it must, then prepares it all in
 * another pass. That fault-only pass meets the next PMD's state of the row.
 */
static void hmm_migrate_fault_only_pass(struct kunit *test)
{
	const struct hmm_after_case *c = test->param_value;
	const unsigned long n = 2 * HMMK_PMD_PAGES;
	struct hmmk *ctx = test->priv;
	unsigned long addr, next, i;
	struct hmmk_held *held;
	struct hmmk_prep p;

	if (c->after != AFTER_NO_TABLE)
		hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 2);
	next = addr + PMD_SIZE;
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	if (c->after == AFTER_THP)
		hmmk_write(ctx, next, HMMK_PMD_PAGES);
	if (c->after == AFTER_HUGE_ZERO)
		hmmk_read(ctx, next, 1);
	/* Holding two pages of a THP at addr splits it: PTEs there */
	held = hmmk_hold(ctx, addr + 2 * PAGE_SIZE, 2);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + 2 * PAGE_SIZE),
			HMMK_PTE_MIGRATION);
	switch (c->after) {
	case AFTER_NO_TABLE:
		KUNIT_ASSERT_FALSE_MSG(test, hmmk_pte_table(ctx, next),
				       "the shape was not built: a page table in the next PMD");
		break;
	case AFTER_THP:
		HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, next), "a THP allocation");
		break;
	case AFTER_HUGE_ZERO:
		HMMK_SKIP_UNLESS(test, hmmk_pte(ctx, next) == HMMK_PTE_ZERO &&
				 hmmk_pmd_mapped(ctx, next), "the huge zero page");
		break;
	}
	hmmk_release_after(held, 100);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, c->via, addr, n,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_TRUE_MSG(test, hmmk_released(held),
			      "returned before the migration entries went away");
	hmmk_release_wait(held);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	for (i = 0; i < n; i++) {
		bool page = i < HMMK_PMD_PAGES || c->after == AFTER_THP;

		KUNIT_EXPECT_TRUE_MSG(test, p.migrate.src[i] & MIGRATE_PFN_MIGRATE,
				      "page %lu not prepared", i);
		KUNIT_EXPECT_EQ_MSG(test, !!migrate_pfn_to_page(p.migrate.src[i]),
				    page, "page %lu: a page or a hole", i);
		if (c->via == VIA_HMM)
			KUNIT_EXPECT_TRUE_MSG(test, p.range.hmm_pfns[i] &
					      HMM_PFN_MIGRATE, "page %lu", i);
	}
	if (c->after == AFTER_NO_TABLE)
		KUNIT_EXPECT_FALSE_MSG(test, hmmk_pte_table(ctx, next),
				       "a hole was faulted in");
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_data(ctx, addr, HMMK_PMD_PAGES);
	if (c->after == AFTER_THP)
		hmmk_expect_data(ctx, next, HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, n);
}

/*
 * A fault that cannot wait (a write to the zero page of an anonymous VMA)
 * after a page the walk prepared: the page stays prepared, its folio
 * locked, across the fault, as seen from the fault's own invalidation
 * (only a fault that may wait, or one that may map over a hole of ours,
 * puts the prepared pages back first).
 */
static void hmm_migrate_held_across_fault(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct migrate_vma migrate;
	struct hmm_range range;
	struct page *page;
	unsigned long addr;
	int ret, tries = 16;

	addr = hmmk_map_anon(ctx, 2);
	hmmk_write(ctx, addr, 1);
	hmmk_read(ctx, addr + PAGE_SIZE, 1);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + PAGE_SIZE), HMMK_PTE_ZERO);
	page = hmmk_page(ctx, addr);
	hmmk_migrate_init(ctx, &migrate, addr, 2, MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &range, addr, 2, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE |
			       HMM_PFN_REQ_MIGRATE;
	range.migrate = &migrate;
	range.hmm_pfns[0] = HMM_PFN_REQ_MIGRATE;
	range.hmm_pfns[1] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	ctx->probe_page = page;
	do {
		ret = hmmk_walk_once(ctx, &range, &migrate);
	} while (ret == -EBUSY && --tries);
	ctx->probe_page = NULL;
	HMMK_ASSERT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, ctx->probe_locked_other, 1,
			    "page 0 put back for a fault that cannot wait (-1: no fault seen)");
	KUNIT_EXPECT_EQ(test, migrate.cpages, 1);
	KUNIT_EXPECT_EQ(test, migrate.src[0], hmmk_src_of(page, true));
	KUNIT_EXPECT_EQ(test, migrate.src[1], 0);
	KUNIT_EXPECT_EQ(test, range.hmm_pfns[1] & HMMK_FLAGS,
			HMM_PFN_VALID | HMM_PFN_WRITE);
	KUNIT_EXPECT_EQ(test, hmmk_pte(ctx, addr + PAGE_SIZE), HMMK_PTE_PRESENT);
	mmap_read_lock(ctx->mm);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	hmmk_expect_data(ctx, addr, 1);
	hmmk_expect_unleaked(ctx, addr, 2);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, 2);
}

/* Without a fault request a migration entry is skipped, not waited for */
static void hmm_migrate_skips_entry(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
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
 * Pages that cannot be prepared now: one whose folio is locked elsewhere,
 * one pinned by GUP (its anon-exclusive bit cannot be cleared). Each is
 * reported valid and left mapped; the others are prepared; nothing loops.
 * Plain migrate_vma_setup() leaves the same two, through the same step.
 */
static void hmm_migrate_busy_pages(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct page *locked, *pinned;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	pinned = hmmk_pin(ctx, addr + 4 * PAGE_SIZE);
	locked = snap->p[1].page;
	KUNIT_ASSERT_TRUE(test, folio_trylock(page_folio(locked)));

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
	hmmk_unpin(ctx, pinned);
	hmmk_expect_restored(ctx, snap);
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
	struct hmmk *ctx = test->priv;
	unsigned long n = 2 * HMMK_PMD_PAGES, addr, i, cpages = 0;
	struct migrate_vma migrate;
	struct hmm_range range;

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

	HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &range, &migrate), 0);

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
	struct hmmk *ctx = test->priv;
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
	hmmk_setup_restore(ctx, &range, &migrate);
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
 * without migration still takes them, as it always did.
 */
static void hmm_migrate_numa_hint(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	unsigned long plain_src[NPAGES];
	unsigned long addr, i, v, hints, select;
	struct migrate_vma plain;
	struct hmm_range ref;
	struct hmmk_snap *snap;
	struct folio *locked;
	struct hmmk_prep p;
	int ret;

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

	/* Without MIGRATE_VMA_SELECT_SYSTEM none is for migration: as alone */
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, NPAGES), NPAGES);
	hints = hmmk_hint_faults(test);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_EQ(test, hmmk_hint_faults(test) - hints, NPAGES);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    ref.hmm_pfns[i] & HMMK_FLAGS,
				    "device only: page %lu", i);
	hmmk_prep_restore(ctx, &p);

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

	/*
	 * A walk that selects no system page (device private only) prepares
	 * none: a read request takes the THP's hinting fault, as
	 * hmm_range_fault() without migration does, and finds it valid
	 */
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, HMMK_PMD_PAGES),
			HMMK_PMD_PAGES);
	hints = hmmk_hint_faults(test);
	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_HMM, addr,
					   HMMK_PMD_PAGES, HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_GT(test, hmmk_hint_faults(test) - hints, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test, p.range.hmm_pfns[i] & HMM_PFN_VALID,
				      "not selected: page %lu", i);
	hmmk_prep_restore(ctx, &p);

	/*
	 * Its folio locked elsewhere, the THP can be neither prepared nor
	 * split: asked for a read, it is reported valid all the same, with
	 * no hinting fault, as a page a PTE maps would be
	 */
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_EQ(test, hmmk_numa_hint(ctx, addr, HMMK_PMD_PAGES),
			HMMK_PMD_PAGES);
	locked = page_folio(hmmk_page(ctx, addr));
	for (v = 0; v < 2; v++) {
		select = MIGRATE_VMA_SELECT_SYSTEM |
			 (v ? MIGRATE_VMA_SELECT_COMPOUND : 0);
		KUNIT_ASSERT_TRUE(test, folio_trylock(locked));
		hints = hmmk_hint_faults(test);
		ret = hmmk_prepare(ctx, &p, VIA_HMM, addr, HMMK_PMD_PAGES,
				   HMM_PFN_REQ_FAULT, select);
		folio_unlock(locked);
		HMMK_ASSERT_RET(test, ret, 0);
		KUNIT_EXPECT_EQ(test, hmmk_hint_faults(test) - hints, 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
		for (i = 0; i < HMMK_PMD_PAGES; i++)
			KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
					    HMM_PFN_VALID, "page %lu (select %#lx)",
					    i, select);
		hmmk_prep_restore(ctx, &p);
	}
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
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
	struct hmmk *ctx = test->priv;
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
	/* Faulted back, restore_exclusive_pte() maps it old */
	snap->p[3].bits &= ~HMMK_YOUNG;

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
	struct hmmk *ctx = test->priv;
	unsigned long half = NPAGES / 2, addr, i;
	struct hmm_range ref;
	struct hmmk_uffd u;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	int ret;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, half);
	hmmk_uffd_wp(ctx, &u, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, half);
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

/*
 * The huge zero page write protected by userfaultfd: not a hole the device
 * may fill behind the protection, whole or page by page. Read faults leave
 * it as it is: nothing prepared, every page reported valid, read-only.
 */
static void hmm_migrate_uffd_wp_huge_zero(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long addr, i, c;
	struct hmmk_uffd u;
	struct hmmk_prep p;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_read(ctx, addr, 1);
	HMMK_SKIP_UNLESS(test, hmmk_pte(ctx, addr) == HMMK_PTE_ZERO &&
			 hmmk_pmd_mapped(ctx, addr), "the huge zero page");
	hmmk_uffd_wp(ctx, &u, addr, HMMK_PMD_PAGES);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));

	for (c = 0; c < 2; c++) {
		unsigned long select = MIGRATE_VMA_SELECT_SYSTEM |
				       (c ? 0 : MIGRATE_VMA_SELECT_COMPOUND);

		HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, *via, addr,
						   HMMK_PMD_PAGES,
						   HMM_PFN_REQ_FAULT, select), 0);
		KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
		for (i = 0; i < HMMK_PMD_PAGES; i++) {
			KUNIT_EXPECT_FALSE_MSG(test, p.migrate.src[i] &
					       MIGRATE_PFN_MIGRATE,
					       "%s: page %lu taken as a hole",
					       c ? "split" : "compound", i);
			if (*via == VIA_HMM)
				KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] &
						    HMMK_FLAGS, HMM_PFN_VALID,
						    "%s: page %lu",
						    c ? "split" : "compound", i);
		}
		hmmk_prep_restore(ctx, &p);
		KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, HMMK_PMD_PAGES,
						     HMMK_PTE_ZERO),
				HMMK_PMD_PAGES);
	}
	hmmk_expect_balanced(ctx);
	hmmk_uffd_close(ctx, &u);
	hmmk_unmap(ctx, addr, HMMK_PMD_PAGES);
}

/*
 * Our device pages write protected by userfaultfd: prepared by each entry
 * point as plain migrate_vma_setup() prepares them, the protection kept in
 * the migration entries and back in the device entries.
 */
static void hmm_migrate_uffd_wp_device(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_uffd u;
	unsigned long addr, i;
	struct hmmk_prep p;

	hmmk_need_device(ctx);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_to_device(ctx, ctx->dev, addr, NPAGES, false);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	hmmk_uffd_wp(ctx, &u, addr, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_ASSERT_TRUE_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE) ==
				      HMMK_PTE_DEVICE &&
				      hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "page %lu not a write protected device entry", i);

	HMMK_ASSERT_RET(test, hmmk_prepare_as_plain(ctx, &p, *via, addr, NPAGES,
						    HMM_PFN_REQ_FAULT,
						    MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_PTR_EQ_MSG(test, migrate_pfn_to_page(p.migrate.src[i]),
					snap->p[i].page, "page %lu", i);
		KUNIT_EXPECT_TRUE_MSG(test, hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "migration entry %lu lost uffd-wp", i);
	}
	hmmk_prep_restore(ctx, &p);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE) ==
				      HMMK_PTE_DEVICE &&
				      hmmk_uffd_wp_bit(ctx, addr + i * PAGE_SIZE),
				      "page %lu lost uffd-wp after restore", i);
	hmmk_expect_restored(ctx, snap);
	hmmk_uffd_close(ctx, &u);
	hmmk_unmap(ctx, addr, NPAGES);
}
#else
static void hmm_migrate_uffd_wp(struct kunit *test)
{
	kunit_skip(test,
		   "needs x86_64 and CONFIG_PTE_MARKER_UFFD_WP (uffd-wp)");
}

static void hmm_migrate_uffd_wp_huge_zero(struct kunit *test)
{
	hmm_migrate_uffd_wp(test);
}

static void hmm_migrate_uffd_wp_device(struct kunit *test)
{
	hmm_migrate_uffd_wp(test);
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
	struct hmmk *ctx = test->priv;
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
	/* Not ours any more: a hwpoison entry maps it */
	snap->p[bad].page = NULL;
	snap->p[bad].pte = HMMK_PTE_OTHER;
	snap->p[bad].bits = 0;

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
	/* PTE mapped under THP mode madvise: no MADV_HUGEPAGE is asked */
	return addr;
}

/* No PMD table maps @addr: a walk meets a hole at PUD level or above */
bool hmmk_no_pmd_table(struct hmmk *ctx, unsigned long addr)
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
	struct hmmk *ctx = test->priv;
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
 * every page of it as a hole to migrate, faulting nothing. The hole spans
 * more than one PMD.
 */
static void hmm_migrate_pud_hole(struct kunit *test)
{
	const unsigned long n = 2 * NPAGES + HMMK_PMD_PAGES;
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long map, addr, i;
	struct hmmk_prep p;

	map = hmmk_map_puds(ctx, 2);
	addr = ALIGN(map + NPAGES * PAGE_SIZE, PUD_SIZE);
	hmmk_write(ctx, addr - NPAGES * PAGE_SIZE, NPAGES);
	KUNIT_ASSERT_TRUE_MSG(test, hmmk_no_pmd_table(ctx, addr),
			      "the shape was not built: a PMD table maps the range");

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr - NPAGES * PAGE_SIZE,
					   n, 0, MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.npages, n);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	for (i = NPAGES; i < n; i++) {
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

/*
 * Untouched shared file pages over three PMDs with no page table, asked to
 * fault: every page is faulted in and prepared, PMD after PMD, in one call.
 */
static void hmm_migrate_file_hole_pmds(struct kunit *test)
{
	const unsigned long n = 2 * NPAGES + HMMK_PMD_PAGES;
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long at, addr, i;
	struct file *file;
	struct hmmk_prep p;

	at = hmmk_map_thp(ctx, 3);
	file = shmem_file_setup("hmmk", 3 * PMD_SIZE,
				mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	addr = vm_mmap(file, at, 3 * PMD_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, 0);
	fput(file);
	KUNIT_ASSERT_EQ(test, addr, at);
	addr = at + PMD_SIZE - NPAGES * PAGE_SIZE;
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_FALSE_MSG(test, hmmk_pte_table(ctx, at + i * PMD_SIZE),
				       "the shape was not built: PMD %lu has a table", i);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, n,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, n, HMMK_PTE_MIGRATION),
			n);
	for (i = 0; i < n; i++) {
		struct page *page = migrate_pfn_to_page(p.migrate.src[i]);

		KUNIT_EXPECT_TRUE_MSG(test, page && (p.migrate.src[i] &
						     MIGRATE_PFN_MIGRATE),
				      "page %lu not prepared", i);
		if (*via == VIA_HMM && page)
			KUNIT_EXPECT_PTR_EQ_MSG(test,
						hmm_pfn_to_page(p.range.hmm_pfns[i]),
						page, "page %lu", i);
	}
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, n, HMMK_PTE_PRESENT), n);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, at, 3 * HMMK_PMD_PAGES);
}

/*
 * A VMA without VM_READ: for hmm_range_fault() as for any call, -EFAULT
 * when a page must be faulted (a fault would map it PROT_NONE, never valid),
 * else every page HMM_PFN_ERROR and none prepared; migrate_vma_setup()
 * with MIGRATE_VMA_FAULT faults nothing there.
 */
static void hmm_migrate_prot_none(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
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
 * Only device private pages selected (no MIGRATE_VMA_SELECT_SYSTEM) over
 * system pages: each entry point prepares what plain migrate_vma_setup()
 * collects there (the pte_none holes of an anonymous VMA, not the
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
	struct hmmk *ctx = test->priv;
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

	/* The references: hmm_range_fault() alone, plain migrate_vma_setup() */
	hmmk_range_init(ctx, &ref, ref_addr, NPAGES, HMM_PFN_REQ_FAULT);
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &ref), 0);

	HMMK_ASSERT_RET(test, hmmk_prepare_as_plain(ctx, &p, *via, addr, NPAGES,
						    HMM_PFN_REQ_FAULT, select), 0);
	for (i = 0; i < NPAGES; i++) {
		unsigned long a = addr + i * PAGE_SIZE;
		bool hole = p.migrate.src[i] & MIGRATE_PFN_MIGRATE;

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

/* migrate_vma_setup() without MIGRATE_VMA_FAULT: as it always was */
static void hmm_migrate_plain_setup(struct kunit *test)
{
	static const enum hmmk_state states[NPAGES] = {
		HMMK_ANON, HMMK_NONE, HMMK_ZERO, HMMK_FREED,
		HMMK_ANON, HMMK_ANON, HMMK_NONE, HMMK_ZERO,
	};
	struct hmmk *ctx = test->priv;
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

static struct kunit_case hmm_migrate_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_migrate_present, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_holes, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_dontneed_4m, hmm_big_cases),
	KUNIT_CASE(hmm_migrate_write_fault),
	HMMK_CASE_PARAMS(hmm_migrate_file_unmapped, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_no_page_table, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_waits_for_entry, hmmk_vias),
	KUNIT_CASE(hmm_migrate_held_across_fault),
	KUNIT_CASE_SLOW(hmm_migrate_skips_entry),
	HMMK_CASE_PARAMS(hmm_migrate_busy_pages, hmmk_vias_plain),
	KUNIT_CASE(hmm_migrate_per_pfn),
	KUNIT_CASE(hmm_migrate_per_pfn_repass),
	KUNIT_CASE(hmm_migrate_numa_hint),
	HMMK_CASE_PARAMS(hmm_migrate_device_exclusive, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_uffd_wp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_uffd_wp_huge_zero, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_uffd_wp_device, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_hwpoison, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_pud_cross, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_pud_hole, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_file_hole_pmds, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_fault_only_pass, hmm_after_cases),
	KUNIT_CASE(hmm_migrate_prot_none),
	HMMK_CASE_PARAMS(hmm_migrate_select_device_only, hmmk_vias),
	KUNIT_CASE(hmm_migrate_plain_setup),
	{}
};

static struct kunit_suite hmm_migrate_test_suite = {
	.name = "hmm_migrate",
	.init = hmmk_suite_init,
	.test_cases = hmm_migrate_test_cases,
};

kunit_test_suite(hmm_migrate_test_suite);
