// SPDX-License-Identifier: GPL-2.0
/*
 * The hmm_migrate_thp suite: large folios. PMD-mapped THPs prepared whole
 * or split, PTE-mapped THPs, mTHPs, the huge zero page, file THPs, and
 * large folios that cannot be split.
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
 * A THP that can be neither prepared as a unit nor split (a page of it is
 * pinned, or it is locked elsewhere): reported as it is, no page of it
 * prepared, and the walk ends, asked for part of it or for all of it as
 * one unit.
 */
static void hmm_migrate_unsplittable_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct page *pinned;
	struct hmmk_prep p;
	unsigned long addr;
	int ret;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	pinned = hmmk_pin(ctx, addr + 3 * PAGE_SIZE);

	/* Part of the THP: it must be split, and cannot be */
	ret = hmmk_prepare(ctx, &p, *via, addr, 16, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	if (!ret)
		hmmk_prep_restore(ctx, &p);

	/*
	 * Whole, as one unit: its PMD cannot become a migration entry (the
	 * pinned page cannot be shared), so it is not prepared, nor left
	 * locked
	 */
	ret = hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
			   HMM_PFN_REQ_FAULT, MIGRATE_VMA_SELECT_SYSTEM |
			   MIGRATE_VMA_SELECT_COMPOUND);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_EXPECT_FALSE(test, folio_test_locked(page_folio(pinned)));
	if (!ret)
		hmmk_prep_restore(ctx, &p);
	hmmk_unpin(ctx, pinned);

	/*
	 * Not pinned but locked elsewhere: neither one unit nor split, and
	 * never waited for (no assertion until it is unlocked)
	 */
	KUNIT_ASSERT_TRUE(test, folio_trylock(page_folio(pinned)));
	ret = hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
			   HMM_PFN_REQ_FAULT, MIGRATE_VMA_SELECT_SYSTEM |
			   MIGRATE_VMA_SELECT_COMPOUND);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	if (!ret)
		hmmk_prep_restore(ctx, &p);
	folio_unlock(page_folio(pinned));
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

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
	struct hmmk *ctx = test->priv;
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
	struct hmmk *ctx = test->priv;
	unsigned long small = 16, n = small + (1 << MTHP_ORDER), addr, i;
	struct page *pinned;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	int ret;

	hmmk_need_thp(test);
	addr = hmmk_map_mthp(ctx, small, 1 << MTHP_ORDER);
	snap = hmmk_snapshot(ctx, addr, small);
	pinned = hmmk_pin(ctx, addr + (small + 3) * PAGE_SIZE);

	ret = hmmk_prepare(ctx, &p, *via, addr, n, HMM_PFN_REQ_FAULT,
			   MIGRATE_VMA_SELECT_SYSTEM);
	HMMK_EXPECT_RET(test, ret, 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, small);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, !!(p.migrate.src[i] & MIGRATE_PFN_MIGRATE),
				    i < small, "page %lu", i);
	if (!ret)
		hmmk_prep_restore(ctx, &p);
	hmmk_unpin(ctx, pinned);
	hmmk_expect_restored(ctx, snap);
	hmmk_expect_data(ctx, addr, n);
}

/*
 * A hole prepared, then a write fault two pages on in the same page table of
 * an anonymous VMA with mTHP on: alloc_anon_folio() maps one folio over
 * the pte_none entries around the fault, the hole's among them. That page
 * must not come out as a hole the device may fill while the CPU maps it
 * (hmmk_walk_once() checks the outputs against the page table): the walk
 * puts its holes back before such a fault, and prepares the page as it finds
 * it after.
 */
static void hmm_migrate_hole_then_mthp_fault(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	const unsigned long n = 1 << MTHP_ORDER;
	unsigned long always, madvise, inherit, addr, i;
	struct migrate_vma migrate;
	struct hmm_range range;
	int ret = -ENOENT, tries = 16;
	bool shape;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_migrate_init(ctx, &migrate, addr, n, MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &range, addr, n, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE |
			       HMM_PFN_REQ_MIGRATE;
	range.migrate = &migrate;
	range.hmm_pfns[0] = HMM_PFN_REQ_MIGRATE;
	range.hmm_pfns[2] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	always = READ_ONCE(huge_anon_orders_always);
	madvise = READ_ONCE(huge_anon_orders_madvise);
	inherit = READ_ONCE(huge_anon_orders_inherit);
	WRITE_ONCE(huge_anon_orders_always, 0);
	WRITE_ONCE(huge_anon_orders_inherit, 0);
	WRITE_ONCE(huge_anon_orders_madvise, 0);
	/* A page table of small pages: one page, away from those walked */
	hmmk_write(ctx, addr + 4 * n * PAGE_SIZE, 1);
	shape = hmmk_pte_table(ctx, addr) &&
		hmmk_count_pte(ctx, addr, n, HMMK_PTE_NONE) == n;
	if (shape) {
		WRITE_ONCE(huge_anon_orders_madvise, BIT(MTHP_ORDER));
		do {
			ret = hmmk_walk_once(ctx, &range, &migrate);
		} while (ret == -EBUSY && --tries);
	}
	WRITE_ONCE(huge_anon_orders_always, always);
	WRITE_ONCE(huge_anon_orders_inherit, inherit);
	WRITE_ONCE(huge_anon_orders_madvise, madvise);
	KUNIT_ASSERT_TRUE_MSG(test, shape,
			      "the shape was not built: no page table, or pages mapped");
	HMMK_ASSERT_RET(test, ret, 0);
	/* Only a large folio maps page 1, which nothing asked for */
	if (hmmk_pte(ctx, addr + PAGE_SIZE) == HMMK_PTE_NONE) {
		mmap_read_lock(ctx->mm);
		hmmk_restore(&migrate);
		mmap_read_unlock(ctx->mm);
		kunit_skip(test, "needs an mTHP allocation");
	}

	/*
	 * Page 0 prepared: as the folio's page, or as a hole if the split
	 * that prepares it mapped its zeroes to the zero page
	 */
	KUNIT_EXPECT_TRUE(test, migrate.src[0] & MIGRATE_PFN_MIGRATE);
	KUNIT_EXPECT_TRUE(test, range.hmm_pfns[0] & HMM_PFN_MIGRATE);
	KUNIT_EXPECT_EQ(test, range.hmm_pfns[2] & HMMK_FLAGS,
			HMM_PFN_VALID | HMM_PFN_WRITE);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 1);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, migrate.src[i], 0, "page %lu", i);
	mmap_read_lock(ctx->mm);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_NE(test, hmmk_pte(ctx, addr), HMMK_PTE_MIGRATION);
	KUNIT_EXPECT_EQ(test, hmmk_peek(ctx, addr), 0);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
#else
	kunit_skip(test, "needs CONFIG_TRANSPARENT_HUGEPAGE");
#endif
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
 * what migrate_vma_setup()'s own walk collects (nothing: it splits
 * the THP and skips the hole it leaves in a file VMA); with one, it faults
 * the pages back in and prepares each. Never a page with data as a hole,
 * and the data stays as it was.
 */
static void hmm_migrate_file_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
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

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/*
 * Four PMDs of a new file of @mnt mapped shared, written: small pages in
 * the first PMD (a hole punched in its THP split it), then three file THPs.
 * Skips the test without them.
 */
static unsigned long hmmk_map_file_thps(struct hmmk *ctx, struct vfsmount *mnt)
{
	unsigned long n = 4 * HMMK_PMD_PAGES, addr, i;
	struct kunit *test = ctx->test;
	struct file *file;

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
	return addr;
}
#endif

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
	struct hmmk *ctx = test->priv;
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	unsigned long n = 4 * HMMK_PMD_PAGES, addr, i;
	struct vfsmount *mnt;
	struct hmmk_prep p;
	u64 *before;

	hmmk_need_thp(test);
	mnt = hmmk_mount_huge_tmpfs(test);
	addr = hmmk_map_file_thps(ctx, mnt);
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
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, 4 * PMD_SIZE), 0);
	kern_unmount(mnt);
#else
	kunit_skip(test, "needs CONFIG_TRANSPARENT_HUGEPAGE");
#endif
}

struct hmm_file_thps_case {
	const char *desc;
	enum hmmk_via via;
	unsigned long select;	/* with MIGRATE_VMA_SELECT_SYSTEM */
	bool half;		/* per-pfn: half of THP 2 asks for migration */
	bool locked;		/* THP 3 locked elsewhere */
	bool halves;		/* per-pfn: half of each THP asks */
};

static_assert(offsetof(struct hmm_file_thps_case, desc) == 0);

static const struct hmm_file_thps_case hmm_file_thps_cases[] = {
	{ "hmm_range_fault, compound", VIA_HMM, MIGRATE_VMA_SELECT_COMPOUND },
	{ "migrate_vma_setup, compound", VIA_VMA, MIGRATE_VMA_SELECT_COMPOUND },
	{ "hmm_range_fault, half of a THP asks", VIA_HMM, 0, true },
	{ "hmm_range_fault, compound, half of each THP asks", VIA_HMM,
	  MIGRATE_VMA_SELECT_COMPOUND, false, false, true },
	{ "hmm_range_fault, a THP locked elsewhere", VIA_HMM, 0, false, true },
	{ "migrate_vma_setup, a THP locked elsewhere", VIA_VMA, 0, false, true },
};

static int hmm_file_thps_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_file_thps_cases,
				    ARRAY_SIZE(hmm_file_thps_cases), hmmk_desc);
	return 0;
}

/* Does page @i of hmm_migrate_file_thps_fault_only()'s range ask to migrate? */
static bool hmm_file_thps_asks(const struct hmm_file_thps_case *c,
			       unsigned long i)
{
	if (c->halves)
		return i < HMMK_PMD_PAGES ||
		       i % HMMK_PMD_PAGES >= HMMK_PMD_PAGES / 2;
	return !c->half || i < 2 * HMMK_PMD_PAGES || i >= 5 * HMMK_PMD_PAGES / 2;
}

/*
 * The file THPs of hmm_migrate_file_thps() met by a fault-only pass: page 5
 * of the small pages is unmapped (MADV_DONTNEED, still in the page cache),
 * so its fault may wait and the pages prepared before it are put back; the
 * rest of the walk only faults. There a THP is split ahead only if the next
 * pass would split it: kept whole when it is to be prepared as one unit
 * (MIGRATE_VMA_SELECT_COMPOUND: the next pass then takes it as plain
 * migrate_vma_setup() does), split when only some of its pages ask,
 * reported as it is when it cannot be split (locked elsewhere). The next
 * pass prepares exactly the pages that ask. With half of each THP asking
 * and MIGRATE_VMA_SELECT_COMPOUND, all three are split in the first call,
 * whose -EBUSY says that the splits changed the range, and the second call
 * succeeds: split one by one in later passes, they would take a call each.
 */
static void hmm_migrate_file_thps_fault_only(struct kunit *test)
{
	const struct hmm_file_thps_case *c = test->param_value;
	struct hmmk *ctx = test->priv;
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	unsigned long n = 4 * HMMK_PMD_PAGES, addr, i, want = 0;
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM | c->select;
	bool compound = c->select & MIGRATE_VMA_SELECT_COMPOUND;
	unsigned long *plain = NULL;
	struct folio *locked = NULL;
	struct vfsmount *mnt;
	struct hmmk_prep p;
	int ret, tries = 16;

	hmmk_need_thp(test);
	mnt = hmmk_mount_huge_tmpfs(test);
	addr = hmmk_map_file_thps(ctx, mnt);
	hmmk_dontneed(ctx, addr + 5 * PAGE_SIZE, 1);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr + 5 * PAGE_SIZE),
			HMMK_PTE_NONE);
	if (c->locked) {
		locked = page_folio(hmmk_page(ctx, addr + 3 * PMD_SIZE));
		KUNIT_ASSERT_TRUE(test, folio_trylock(locked));
	}
	if (compound) {
		/* The THPs as plain migrate_vma_setup() collects them whole */
		HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, VIA_PLAIN, addr, n, 0,
						   select), 0);
		plain = kunit_kmalloc_array(test, n, sizeof(*plain), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, plain);
		memcpy(plain, p.migrate.src, n * sizeof(*plain));
		hmmk_prep_restore(ctx, &p);
	}

	if (!c->half && !c->halves) {
		ret = hmmk_prepare(ctx, &p, c->via, addr, n, HMM_PFN_REQ_FAULT,
				   select);
	} else {
		p.via = VIA_HMM;
		hmmk_migrate_init(ctx, &p.migrate, addr, n, select);
		hmmk_range_init(ctx, &p.range, addr, n, HMM_PFN_REQ_FAULT);
		p.range.pfn_flags_mask = HMM_PFN_REQ_MIGRATE;
		p.range.migrate = &p.migrate;
		for (i = 0; i < n; i++)
			p.range.hmm_pfns[i] = hmm_file_thps_asks(c, i) ?
					      HMM_PFN_REQ_MIGRATE : 0;
		do {
			ret = hmmk_walk_once(ctx, &p.range, &p.migrate);
		} while (ret == -EBUSY && --tries);
		/*
		 * The THPs split in the first call's fault-only pass change
		 * the range, so that call says -EBUSY; the second prepares
		 */
		if (c->halves)
			KUNIT_EXPECT_EQ_MSG(test, 17 - tries, 2,
					    "calls: 1 if the splits' invalidations went unseen, more if the THPs were split one by one");
	}
	HMMK_ASSERT_RET(test, ret, 0);

	for (i = 0; i < n; i++) {
		unsigned long thp = i / HMMK_PMD_PAGES, src = p.migrate.src[i];
		bool prepared = hmm_file_thps_asks(c, i) &&
				!(c->locked && thp == 3);

		if (thp && compound && !c->halves) {
			/* Kept whole by the fault-only pass: as plain's */
			KUNIT_EXPECT_EQ_MSG(test, src, plain[i], "page %lu (PMD %lu)",
					    i, thp);
			want += !!src;
			continue;
		}
		want += prepared;
		KUNIT_EXPECT_EQ_MSG(test, !!(src & MIGRATE_PFN_MIGRATE), prepared,
				    "page %lu (PMD %lu): prepared", i, thp);
		KUNIT_EXPECT_FALSE_MSG(test, src & MIGRATE_PFN_COMPOUND,
				       "page %lu (PMD %lu): one unit", i, thp);
		if (prepared)
			KUNIT_EXPECT_NOT_NULL_MSG(test, migrate_pfn_to_page(src),
						  "page %lu: data prepared as a hole",
						  i);
		if (c->via == VIA_HMM && !prepared)
			KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] &
					    (HMM_PFN_VALID | HMM_PFN_MIGRATE),
					    HMM_PFN_VALID, "page %lu reported", i);
	}
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, want);
	hmmk_prep_restore(ctx, &p);
	if (locked) {
		KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr + 3 * PMD_SIZE));
		folio_unlock(locked);
	}
	for (i = 1; compound && !c->halves && i < 4; i++) {
		struct page *page = hmmk_page(ctx, addr + i * PMD_SIZE);

		KUNIT_EXPECT_TRUE_MSG(test, page && folio_test_large(page_folio(page)),
				      "THP %lu split, to be prepared as one unit", i);
	}
	for (i = 0; i < n; i += 37)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    hmmk_tag(ctx, addr + i * PAGE_SIZE),
				    "page %lu: data", i);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, 4 * PMD_SIZE), 0);
	kern_unmount(mnt);
#else
	kunit_skip(test, "needs CONFIG_TRANSPARENT_HUGEPAGE");
#endif
}

/*
 * Four file THPs (huge tmpfs, written through a mapping of their own)
 * mapped shared where no page table is yet: the walk meets one hole above
 * the PMDs, faults the THPs in, and splits each to prepare its pages. Each
 * split zaps the PMD it splits (a file folio's PTEs come back at the next
 * fault), so each PMD is faulted again: that must not count against the
 * other PMDs and end in -EBUSY.
 */
static void hmm_migrate_file_thps_hole(struct kunit *test)
{
	unsigned long n = 4 * HMMK_PMD_PAGES, len = 4 * PMD_SIZE;
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;

	hmmk_need_thp(test);
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	{
	unsigned long written, map, addr, i;
	struct vfsmount *mnt;
	struct hmmk_prep p;
	struct file *file;

	mnt = hmmk_mount_huge_tmpfs(test);
	file = shmem_file_setup_with_mnt(mnt, "hmmk", len,
					 mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	written = vm_mmap(file, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	map = vm_mmap(NULL, 0, 2 * PUD_SIZE, PROT_NONE,
		      MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, 0);
	addr = ALIGN(map, PUD_SIZE);
	if (!IS_ERR_VALUE(written)) {
		hmmk_write(ctx, written, n);
		vm_munmap(written, len);
	}
	if (!IS_ERR_VALUE(map))
		map = vm_mmap(file, addr, len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_FIXED, 0);
	fput(file);
	HMMK_ASSERT_ADDR(test, written);
	KUNIT_ASSERT_EQ(test, map, addr);
	KUNIT_ASSERT_TRUE(test, hmmk_no_pmd_table(ctx, addr));

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, n,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, n);
	hmmk_prep_restore(ctx, &p);
	for (i = 0; i < n; i += 97)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    hmmk_tag(ctx, written + i * PAGE_SIZE),
				    "page %lu", i);
	hmmk_expect_unleaked(ctx, addr, n);
	hmmk_expect_balanced(ctx);
	}
#endif
}

/*
 * A THP another thread migrates as one unit, so a PMD migration entry:
 * asked for a fault, the walk waits for the entry to go, then prepares the
 * THP back in place, with its data.
 */
static void hmm_migrate_waits_for_pmd_entry(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmmk_held *held;
	struct hmmk_prep p;
	unsigned long addr;

	hmmk_need_thp(test);
	HMMK_SKIP_UNLESS(test, thp_migration_supported(), "THP migration");
	addr = hmmk_map_thp(ctx, 1);
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr), "a THP allocation");
	held = hmmk_hold_thp(ctx, addr);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_MIGRATION);
	hmmk_release_after(held, 100);

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr, HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM |
					   MIGRATE_VMA_SELECT_COMPOUND), 0);
	KUNIT_EXPECT_TRUE_MSG(test, hmmk_released(held),
			      "returned before the migration entry went away");
	hmmk_release_wait(held);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 1);
	KUNIT_EXPECT_TRUE(test, p.migrate.src[0] & MIGRATE_PFN_COMPOUND);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	hmmk_expect_data(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

struct hmm_thp_case {
	const char *desc;
	enum hmmk_via via;
	bool compound;
	long first, npages;	/* the range, in pages from the THP */
};

static_assert(offsetof(struct hmm_thp_case, desc) == 0);

static const struct hmm_thp_case hmm_thp_cases[] = {
	{ "hmm_range_fault, compound", VIA_HMM, true, 0, 512 },
	{ "migrate_vma_setup, compound", VIA_VMA, true, 0, 512 },
	{ "hmm_range_fault, split", VIA_HMM, false, 0, 512 },
	{ "migrate_vma_setup, split", VIA_VMA, false, 0, 512 },
	{ "hmm_range_fault, range inside", VIA_HMM, true, 100, 8 },
	{ "migrate_vma_setup, range inside", VIA_VMA, true, 100, 8 },
};

static int hmm_thp_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_thp_cases,
				    ARRAY_SIZE(hmm_thp_cases), hmmk_desc);
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
	struct hmmk *ctx = test->priv;
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
	struct hmmk *ctx = test->priv;
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

/* A range over the PMD at @addr whose page i asks reqs(i) */
static void hmmk_per_pfn_range(struct hmmk *ctx, struct hmm_range *range,
			       struct migrate_vma *migrate, unsigned long addr,
			       unsigned long select, unsigned long req,
			       long odd, unsigned long odd_req)
{
	unsigned long i;

	hmmk_migrate_init(ctx, migrate, addr, HMMK_PMD_PAGES, select);
	hmmk_range_init(ctx, range, addr, HMMK_PMD_PAGES, 0);
	range->pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE;
	range->migrate = migrate;
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		range->hmm_pfns[i] = i == odd ? odd_req : req;
}

/*
 * Per-pfn requests over PMD leaves: a THP and our device THP where no page
 * asks for migration are reported whole, nothing prepared or split; a THP
 * under MIGRATE_VMA_SELECT_COMPOUND where all pages but one ask is not one
 * unit: it is prepared page by page, without that page.
 */
static void hmm_migrate_thp_per_pfn(struct kunit *test)
{
	const unsigned long sys = MIGRATE_VMA_SELECT_SYSTEM |
				  MIGRATE_VMA_SELECT_COMPOUND;
	struct hmmk *ctx = test->priv;
	struct migrate_vma migrate;
	struct hmm_range range;
	struct hmmk_snap *snap;
	unsigned long addr, dev, i;

	hmmk_need_thp(test);
	hmmk_need_device(ctx);
	addr = hmmk_map_thp(ctx, 2);
	dev = addr + PMD_SIZE;
	hmmk_write(ctx, addr, 2 * HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr) &&
			 hmmk_pmd_mapped(ctx, dev), "a THP allocation");
	hmmk_to_device(ctx, ctx->dev, dev, HMMK_PMD_PAGES, true);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, dev));
	snap = hmmk_snapshot(ctx, addr, HMMK_PMD_PAGES);

	/* No page asks for migration */
	hmmk_per_pfn_range(ctx, &range, &migrate, addr, sys,
			   HMM_PFN_REQ_FAULT, -1, 0);
	HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &range, &migrate), 0);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 0);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE, "THP page %lu", i);
	mmap_read_lock(ctx->mm);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));

	hmmk_per_pfn_range(ctx, &range, &migrate, dev,
			   MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
			   MIGRATE_VMA_SELECT_COMPOUND, HMM_PFN_REQ_FAULT, -1, 0);
	HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &range, &migrate), 0);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 0);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE,
				    "device THP page %lu", i);
	mmap_read_lock(ctx->mm);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, dev));

	/* All but page 7: not one unit, page by page */
	hmmk_per_pfn_range(ctx, &range, &migrate, addr, sys,
			   HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE, 7,
			   HMM_PFN_REQ_FAULT);
	HMMK_ASSERT_RET(test, hmmk_walk_once(ctx, &range, &migrate), 0);
	KUNIT_EXPECT_EQ(test, migrate.cpages, HMMK_PMD_PAGES - 1);
	for (i = 0; i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, migrate.src[i],
				    i == 7 ? 0 : hmmk_src_of(snap->p[i].page, true),
				    "THP page %lu", i);
	mmap_read_lock(ctx->mm);
	hmmk_restore(&migrate);
	mmap_read_unlock(ctx->mm);
	KUNIT_EXPECT_FALSE(test, hmmk_pmd_mapped(ctx, addr));
	hmmk_expect_data(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, 2 * HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, 2 * HMMK_PMD_PAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * PMD leaves the selection does not take: a THP and the huge zero page
 * walked with MIGRATE_VMA_SELECT_DEVICE_PRIVATE only, our device THP with
 * MIGRATE_VMA_SELECT_SYSTEM only. Nothing prepared, nothing split, each
 * page reported as it is mapped.
 */
static void hmm_migrate_pmd_not_selected(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long addr, dev, i;
	struct hmmk_prep p;

	hmmk_need_thp(test);
	hmmk_need_device(ctx);
	addr = hmmk_map_thp(ctx, 3);
	dev = addr + 2 * PMD_SIZE;
	hmmk_write(ctx, addr, HMMK_PMD_PAGES);
	hmmk_read(ctx, addr + PMD_SIZE, 1);
	hmmk_write(ctx, dev, HMMK_PMD_PAGES);
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr) &&
			 hmmk_pmd_mapped(ctx, dev), "a THP allocation");
	HMMK_SKIP_UNLESS(test, hmmk_pmd_mapped(ctx, addr + PMD_SIZE) &&
			 hmmk_pte(ctx, addr + PMD_SIZE) == HMMK_PTE_ZERO,
			 "the huge zero page");
	hmmk_to_device(ctx, ctx->dev, dev, HMMK_PMD_PAGES, true);
	KUNIT_ASSERT_TRUE(test, hmmk_pmd_mapped(ctx, dev));

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, addr,
					   2 * HMMK_PMD_PAGES, HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_DEVICE_PRIVATE), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; *via == VIA_HMM && i < 2 * HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID |
				    (i < HMMK_PMD_PAGES ? HMM_PFN_WRITE : 0),
				    "%s page %lu", i < HMMK_PMD_PAGES ?
				    "THP" : "huge zero", i % HMMK_PMD_PAGES);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr + PMD_SIZE));

	HMMK_ASSERT_RET(test, hmmk_prepare(ctx, &p, *via, dev, HMMK_PMD_PAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, 0);
	for (i = 0; *via == VIA_HMM && i < HMMK_PMD_PAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, p.range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE,
				    "device THP page %lu", i);
	hmmk_prep_restore(ctx, &p);
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, dev));
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, dev, HMMK_PMD_PAGES,
					     HMMK_PTE_DEVICE), HMMK_PMD_PAGES);
	hmmk_expect_unleaked(ctx, addr, 3 * HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, 3 * HMMK_PMD_PAGES);
	KUNIT_EXPECT_EQ_MSG(test, hmmk_dev_pages_used(ctx->dev), 0,
			    "device pages not freed: a reference leaked");
}

/*
 * Per-pfn requests over the huge zero page where only page 5 asks, for a
 * write: the walk must read every page's request, not the first one's, and
 * fault page 5 in writable.
 */
static void hmm_migrate_huge_zero_write_one(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct migrate_vma migrate;
	struct hmm_range range;
	unsigned long addr;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_read(ctx, addr, 1);
	HMMK_SKIP_UNLESS(test, hmmk_pte(ctx, addr) == HMMK_PTE_ZERO &&
			 hmmk_pmd_mapped(ctx, addr), "the huge zero page");
	hmmk_migrate_init(ctx, &migrate, addr, HMMK_PMD_PAGES,
			  MIGRATE_VMA_SELECT_SYSTEM);
	hmmk_range_init(ctx, &range, addr, HMMK_PMD_PAGES, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE |
			       HMM_PFN_REQ_MIGRATE;
	range.migrate = &migrate;
	range.hmm_pfns[5] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;

	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	KUNIT_EXPECT_EQ(test, range.hmm_pfns[5] & (HMM_PFN_VALID |
						   HMM_PFN_WRITE),
			HMM_PFN_VALID | HMM_PFN_WRITE);
	KUNIT_EXPECT_NE(test, hmmk_pte(ctx, addr + 5 * PAGE_SIZE),
			HMMK_PTE_ZERO);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 0);
	hmmk_setup_restore(ctx, &range, &migrate);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

/*
 * Per-pfn requests over the huge zero page where the first 8 pages ask to
 * migrate and the others only to fault: those 8 are holes the device
 * fills, which splits the PMD (migrate_vma_insert_page()), so the others
 * are reported with order 0, not the PMD's: a driver that maps by the
 * order would map 2 MiB of zero page over the device's pages.
 */
static void hmm_migrate_huge_zero_mixed(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct migrate_vma migrate;
	struct hmm_range range;
	unsigned long addr, i, zero;

	hmmk_need_thp(test);
	addr = hmmk_map_thp(ctx, 1);
	hmmk_read(ctx, addr, 1);
	HMMK_SKIP_UNLESS(test, hmmk_pte(ctx, addr) == HMMK_PTE_ZERO &&
			 hmmk_pmd_mapped(ctx, addr), "the huge zero page");
	zero = page_to_pfn(hmmk_page(ctx, addr));
	hmmk_per_pfn_range(ctx, &range, &migrate, addr,
			   MIGRATE_VMA_SELECT_SYSTEM, HMM_PFN_REQ_FAULT, -1, 0);
	for (i = 0; i < 8; i++)
		range.hmm_pfns[i] |= HMM_PFN_REQ_MIGRATE;

	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	KUNIT_EXPECT_EQ(test, migrate.cpages, 8);
	for (i = 0; i < HMMK_PMD_PAGES; i++) {
		unsigned long out = range.hmm_pfns[i];

		if (i < 8) {
			KUNIT_EXPECT_EQ_MSG(test, migrate.src[i],
					    MIGRATE_PFN_MIGRATE, "page %lu", i);
			KUNIT_EXPECT_EQ_MSG(test, out & (HMM_PFN_VALID |
							 HMM_PFN_MIGRATE),
					    HMM_PFN_MIGRATE, "page %lu", i);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test, migrate.src[i], 0, "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, out & (HMM_PFN_VALID |
						 HMM_PFN_MIGRATE),
				    HMM_PFN_VALID, "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, out & ~HMM_PFN_FLAGS, zero + i,
				    "page %lu: pfn", i);
		KUNIT_EXPECT_EQ_MSG(test, hmm_pfn_to_map_order(out), 0,
				    "page %lu: the PMD's order over holes", i);
	}
	KUNIT_EXPECT_TRUE(test, hmmk_pmd_mapped(ctx, addr));
	hmmk_setup_restore(ctx, &range, &migrate);
	hmmk_expect_unleaked(ctx, addr, HMMK_PMD_PAGES);
	hmmk_expect_balanced(ctx);
}

/* A THP mapped by PTEs (its PMD split by a partial MADV_DONTNEED) */
static void hmm_migrate_pte_mapped_thp(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
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

static struct kunit_case hmm_migrate_thp_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_migrate_unsplittable_thp, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_mthp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_unsplittable_mthp, hmmk_vias_plain),
	KUNIT_CASE(hmm_migrate_hole_then_mthp_fault),
	HMMK_CASE_PARAMS(hmm_migrate_file_thp, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_migrate_file_thps, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_file_thps_fault_only, hmm_file_thps_cases),
	HMMK_CASE_PARAMS(hmm_migrate_file_thps_hole, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_waits_for_pmd_entry, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_migrate_thp, hmm_thp_cases),
	HMMK_CASE_PARAMS(hmm_migrate_huge_zero, hmmk_vias),
	KUNIT_CASE(hmm_migrate_huge_zero_write_one),
	KUNIT_CASE(hmm_migrate_huge_zero_mixed),
	HMMK_CASE_PARAMS(hmm_migrate_pmd_not_selected, hmmk_vias),
	KUNIT_CASE(hmm_migrate_thp_per_pfn),
	HMMK_CASE_PARAMS(hmm_migrate_pte_mapped_thp, hmmk_vias_plain),
	{}
};

static struct kunit_suite hmm_migrate_thp_test_suite = {
	.name = "hmm_migrate_thp",
	.init = hmmk_suite_init,
	.test_cases = hmm_migrate_thp_test_cases,
};

kunit_test_suite(hmm_migrate_thp_test_suite);
