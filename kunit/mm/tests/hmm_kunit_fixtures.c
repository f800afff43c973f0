// SPDX-License-Identifier: GPL-2.0
/*
 * Fixtures for the HMM KUnit tests: see hmm_kunit.h.
 */
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/jhash.h>
#include <linux/khugepaged.h>
#include <linux/swap.h>
#include <linux/leafops.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/pkeys.h>
#include <linux/sched/mm.h>
#include <linux/sched/sysctl.h>
#include <linux/swapops.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>
#include <asm/tlb.h>

#include "../internal.h"
#include "hmm_kunit.h"

/* The driver's view: ignore our own migrations, as in-tree drivers do. */
static bool hmmk_interval_invalidate(struct mmu_interval_notifier *mni,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct hmmk *ctx = container_of(mni, struct hmmk, mni);

	if (range->event == MMU_NOTIFY_MIGRATE &&
	    range->owner == hmmk_owner(ctx))
		return true;
	mmu_interval_set_seq(mni, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops hmmk_interval_ops = {
	.invalidate = hmmk_interval_invalidate,
};

static bool hmmk_own(struct hmmk *ctx, const struct mmu_notifier_range *range)
{
	return range->event == MMU_NOTIFY_MIGRATE &&
	       range->owner == hmmk_owner(ctx);
}

/*
 * khugepaged and kswapd work on the test mm whenever they like, and may be
 * inside an invalidation while a case checks its counts: not counted.
 */
static bool hmmk_background(void)
{
	return current_is_khugepaged() || current_is_kswapd();
}

static int hmmk_start(struct mmu_notifier *mn,
		      const struct mmu_notifier_range *range)
{
	struct hmmk *ctx = container_of(mn, struct hmmk, mn);

	if (hmmk_background())
		return 0;
	spin_lock(&ctx->lock);
	ctx->counts.starts++;
	ctx->counts.open++;
	if (ctx->own_open)
		ctx->counts.nested_in_own++;
	if (hmmk_own(ctx, range)) {
		ctx->counts.own_migrate++;
		ctx->own_open++;
	} else if (ctx->probe_page) {
		ctx->probe_locked_other =
			folio_test_locked(page_folio(ctx->probe_page));
	}
	spin_unlock(&ctx->lock);
	return 0;
}

static void hmmk_end(struct mmu_notifier *mn,
		     const struct mmu_notifier_range *range)
{
	struct hmmk *ctx = container_of(mn, struct hmmk, mn);

	if (hmmk_background())
		return;
	spin_lock(&ctx->lock);
	ctx->counts.ends++;
	ctx->counts.open--;
	if (hmmk_own(ctx, range))
		ctx->own_open--;
	spin_unlock(&ctx->lock);
}

static const struct mmu_notifier_ops hmmk_mn_ops = {
	.invalidate_range_start = hmmk_start,
	.invalidate_range_end = hmmk_end,
};

static void hmmk_cleanup(void *data)
{
	struct hmmk *ctx = data;

	/* Kernel objects only: the mm may be going away meanwhile. */
	mmu_interval_notifier_remove(&ctx->mni);
	mmu_notifier_unregister(&ctx->mn, ctx->mm);
}

static struct hmmk *hmmk_init(struct kunit *test)
{
	struct hmmk *ctx;
	int ret;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, kunit_attach_mm(), 0);
	ctx->test = test;
	ctx->mm = current->mm;
	ctx->seed = get_random_u32();
	ctx->probe_locked = -1;
	ctx->probe_locked_other = -1;
	spin_lock_init(&ctx->lock);

	ret = mmu_interval_notifier_insert(&ctx->mni, ctx->mm, 0, TASK_SIZE,
					   &hmmk_interval_ops);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ctx->mn.ops = &hmmk_mn_ops;
	ret = mmu_notifier_register(&ctx->mn, ctx->mm);
	if (ret)
		mmu_interval_notifier_remove(&ctx->mni);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmmk_cleanup,
							ctx), 0);
	return ctx;
}

void hmmk_desc(struct kunit *test, const void *param, char *desc)
{
	strscpy(desc, *(const char * const *)param, KUNIT_PARAM_DESC_SIZE);
}

int hmmk_suite_init(struct kunit *test)
{
	test->priv = hmmk_init(test);
	return 0;
}

/* Memory */

static void hmmk_madvise(struct hmmk *ctx, unsigned long addr,
			 unsigned long len, int advice)
{
	KUNIT_ASSERT_EQ(ctx->test, do_madvise(ctx->mm, addr, len, advice), 0);
}

unsigned long hmmk_map_anon(struct hmmk *ctx, unsigned long npages)
{
	unsigned long len = npages << PAGE_SHIFT;
	unsigned long addr;

	addr = kunit_vm_mmap(ctx->test, NULL, 0, len, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	/* PTE mapped unless a test asks for THPs */
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		hmmk_madvise(ctx, addr, len, MADV_NOHUGEPAGE);
	return addr;
}

/* @npmds PMD aligned PMDs of anonymous memory that may be THPs */
unsigned long hmmk_map_thp(struct hmmk *ctx, unsigned long npmds)
{
	unsigned long len = npmds * PMD_SIZE;
	unsigned long addr;

	addr = kunit_vm_mmap(ctx->test, NULL, 0, len + PMD_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	addr = ALIGN(addr, PMD_SIZE);
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		hmmk_madvise(ctx, addr, len, MADV_HUGEPAGE);
	return addr;
}

unsigned long hmmk_map_shmem(struct hmmk *ctx, unsigned long npages,
			     bool shared)
{
	unsigned long len = npages << PAGE_SHIFT;
	struct file *file;
	unsigned long addr;

	file = shmem_file_setup("hmmk", len, mk_vma_flags(VMA_NORESERVE_BIT));
	KUNIT_ASSERT_FALSE(ctx->test, IS_ERR(file));
	addr = kunit_vm_mmap(ctx->test, file, 0, len, PROT_READ | PROT_WRITE,
			     shared ? MAP_SHARED : MAP_PRIVATE, 0);
	fput(file);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	return addr;
}

static int hmmk_pfnmap_mmap(struct file *file, struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

static const struct file_operations hmmk_pfnmap_fops = {
	.mmap = hmmk_pfnmap_mmap,
};

/* A VM_IO | VM_PFNMAP VMA, as a driver mapping device registers makes */
unsigned long hmmk_map_pfnmap(struct hmmk *ctx, unsigned long npages)
{
	struct file *file;
	unsigned long addr;

	file = anon_inode_getfile("hmmk-pfnmap", &hmmk_pfnmap_fops, NULL,
				  O_RDWR);
	KUNIT_ASSERT_FALSE(ctx->test, IS_ERR(file));
	addr = kunit_vm_mmap(ctx->test, file, 0, npages << PAGE_SHIFT,
			     PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	fput(file);
	HMMK_ASSERT_ADDR(ctx->test, addr);
	return addr;
}

/* Anonymous memory at @addr, replacing what was there */
unsigned long hmmk_map_fixed(struct hmmk *ctx, unsigned long addr,
			     unsigned long npages, unsigned long prot)
{
	unsigned long ret;

	ret = vm_mmap(NULL, addr, npages << PAGE_SHIFT, prot,
		      MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(ctx->test, ret, addr);
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		hmmk_madvise(ctx, addr, npages << PAGE_SHIFT, MADV_NOHUGEPAGE);
	return addr;
}

/*
 * mprotect() of [addr, addr + npages pages), all in one VMA, as
 * do_mprotect_pkey() does it: device private entries and device THPs
 * become read-only as present pages do.
 */
void hmmk_mprotect(struct hmmk *ctx, unsigned long addr, unsigned long npages,
		   unsigned long prot)
{
	unsigned long end = addr + (npages << PAGE_SHIFT);
	struct vm_area_struct *vma, *prev;
	struct vma_iterator vmi;
	struct mmu_gather tlb;
	vm_flags_t newflags;
	int ret = -ENOMEM;

	mmap_write_lock(ctx->mm);
	vma_iter_init(&vmi, ctx->mm, addr);
	vma = vma_find(&vmi, end);
	if (vma && vma->vm_start <= addr && vma->vm_end >= end) {
		prev = vma_prev(&vmi);
		if (addr > vma->vm_start)
			prev = vma;
		vma = vma_find(&vmi, end);
		newflags = calc_vm_prot_bits(prot, 0) |
			   (vma->vm_flags & ~(VM_ACCESS_FLAGS | VM_FLAGS_CLEAR));
		tlb_gather_mmu(&tlb, ctx->mm);
		ret = mprotect_fixup(&vmi, &tlb, vma, &prev, addr, end,
				     newflags);
		tlb_finish_mmu(&tlb);
	}
	mmap_write_unlock(ctx->mm);
	KUNIT_ASSERT_EQ_MSG(ctx->test, ret, 0, "mprotect: %pe", ERR_PTR(ret));
}

void hmmk_unmap(struct hmmk *ctx, unsigned long addr, unsigned long npages)
{
	KUNIT_ASSERT_EQ(ctx->test, vm_munmap(addr, npages << PAGE_SHIFT), 0);
}

KUNIT_DEFINE_ACTION_WRAPPER(hmmk_unpin_action, unpin_user_page, struct page *);

struct page *hmmk_pin(struct hmmk *ctx, unsigned long addr)
{
	struct page *page = NULL;
	long ret;

	mmap_read_lock(ctx->mm);
	ret = pin_user_pages(addr, 1, FOLL_WRITE | FOLL_LONGTERM, &page);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_EQ(ctx->test, ret, 1);
	KUNIT_ASSERT_EQ(ctx->test, kunit_add_action_or_reset(ctx->test,
							     hmmk_unpin_action,
							     page), 0);
	return page;
}

void hmmk_unpin(struct hmmk *ctx, struct page *page)
{
	kunit_release_action(ctx->test, hmmk_unpin_action, page);
}

/* Page contents: each page starts with a tag made of its address */

u64 hmmk_tag(struct hmmk *ctx, unsigned long addr)
{
	return ((u64)ctx->seed << 32) ^ (addr >> PAGE_SHIFT) ^ 0x484d4dULL;
}

void hmmk_write(struct hmmk *ctx, unsigned long addr, unsigned long npages)
{
	for (; npages--; addr += PAGE_SIZE)
		KUNIT_ASSERT_EQ(ctx->test, put_user(hmmk_tag(ctx, addr),
						    (u64 __user *)addr), 0);
}

void hmmk_read(struct hmmk *ctx, unsigned long addr, unsigned long npages)
{
	u64 __maybe_unused val;

	for (; npages--; addr += PAGE_SIZE)
		KUNIT_ASSERT_EQ(ctx->test,
				get_user(val, (u64 __user *)addr), 0);
}

u64 hmmk_peek(struct hmmk *ctx, unsigned long addr)
{
	u64 val = 0;

	KUNIT_EXPECT_EQ(ctx->test, get_user(val, (u64 __user *)addr), 0);
	return val;
}

void hmmk_dontneed(struct hmmk *ctx, unsigned long addr, unsigned long npages)
{
	hmmk_madvise(ctx, addr, npages << PAGE_SHIFT, MADV_DONTNEED);
}

void hmmk_guard(struct hmmk *ctx, unsigned long addr, unsigned long npages)
{
	hmmk_madvise(ctx, addr, npages << PAGE_SHIFT, MADV_GUARD_INSTALL);
}

/*
 * change_prot_numa() leaves alone the folios of a private mm that only one
 * thread uses, and the top tier node unless NUMA_BALANCING_NORMAL is set:
 * take a second user of the mm and set the mode while it runs.
 */
unsigned long hmmk_numa_hint(struct hmmk *ctx, unsigned long addr,
			     unsigned long npages)
{
#ifdef CONFIG_NUMA_BALANCING
	int mode = READ_ONCE(sysctl_numa_balancing_mode);
	struct vm_area_struct *vma;
	unsigned long n = 0;

	mmget(ctx->mm);
	WRITE_ONCE(sysctl_numa_balancing_mode, mode | NUMA_BALANCING_NORMAL);
	mmap_read_lock(ctx->mm);
	vma = vma_lookup(ctx->mm, addr);
	if (vma)
		n = change_prot_numa(vma, addr, addr + (npages << PAGE_SHIFT));
	mmap_read_unlock(ctx->mm);
	WRITE_ONCE(sysctl_numa_balancing_mode, mode);
	mmput(ctx->mm);
	return n;
#else
	return 0;
#endif
}

/* Page tables, read under the mmap lock and the page table lock */

struct hmmk_lookup {
	enum hmmk_pte pte;
	struct page *page;
	bool pmd;	/* a PMD leaf or PMD entry maps addr */
	bool table;	/* a page table of PTEs covers addr */
	unsigned int bits;	/* HMMK_WRITE...: of a present PTE */
};

/* What maps @addr; the caller holds the mmap lock */
static struct hmmk_lookup hmmk_lookup_locked(struct hmmk *ctx,
					     unsigned long addr)
{
	struct hmmk_lookup l = { .pte = HMMK_PTE_NONE };
	struct vm_area_struct *vma;
	spinlock_t *ptl;	/* PMD lock, then PTE lock */
	pte_t *ptep, pte;
	pmd_t *pmdp, pmd;

	mmap_assert_locked(ctx->mm);
	vma = vma_lookup(ctx->mm, addr);
	pmdp = mm_find_pmd(ctx->mm, addr);
	if (!vma || !pmdp)
		goto out;
	ptl = pmd_lock(ctx->mm, pmdp);
	pmd = pmdp_get(pmdp);
	if (pmd_trans_huge(pmd)) {
		l.pmd = true;
		l.pte = is_huge_zero_pmd(pmd) ? HMMK_PTE_ZERO :
			pmd_protnone(pmd) ? HMMK_PTE_NUMA : HMMK_PTE_PRESENT;
		l.page = pmd_page(pmd) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	} else if (!pmd_none(pmd) && !pmd_present(pmd)) {
		const softleaf_t entry = softleaf_from_pmd(pmd);

		l.pmd = true;
		l.pte = softleaf_is_migration(entry) ? HMMK_PTE_MIGRATION :
			softleaf_is_device_private(entry) ? HMMK_PTE_DEVICE :
			HMMK_PTE_OTHER;
		l.page = softleaf_to_page(entry) +
			 ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	}
	spin_unlock(ptl);
	if (l.pmd || pmd_none(pmd))
		goto out;
	l.table = true;

	ptep = pte_offset_map_lock(ctx->mm, pmdp, addr, &ptl);
	if (!ptep)
		goto out;
	pte = ptep_get(ptep);
	if (pte_none(pte)) {
		l.pte = HMMK_PTE_NONE;
	} else if (pte_present(pte)) {
		l.page = vm_normal_page(vma, addr, pte);
		l.pte = is_zero_pfn(pte_pfn(pte)) ? HMMK_PTE_ZERO :
			pte_protnone(pte) ? HMMK_PTE_NUMA : HMMK_PTE_PRESENT;
		l.bits = (pte_write(pte) ? HMMK_WRITE : 0) |
			 (pte_dirty(pte) ? HMMK_DIRTY : 0) |
			 (pte_young(pte) ? HMMK_YOUNG : 0) |
			 (pte_soft_dirty(pte) ? HMMK_SOFT_DIRTY : 0) |
			 (pte_uffd_wp(pte) ? HMMK_UFFD_WP : 0);
	} else {
		const softleaf_t entry = softleaf_from_pte(pte);

		if (softleaf_is_migration(entry)) {
			l.pte = HMMK_PTE_MIGRATION;
			l.page = softleaf_to_page(entry);
		} else if (softleaf_is_device_private(entry)) {
			l.pte = HMMK_PTE_DEVICE;
			l.page = softleaf_to_page(entry);
		} else if (softleaf_is_swap(entry)) {
			l.pte = HMMK_PTE_SWAP;
		} else {
			l.pte = HMMK_PTE_OTHER;
		}
	}
	pte_unmap_unlock(ptep, ptl);
out:
	return l;
}

static struct hmmk_lookup hmmk_lookup(struct hmmk *ctx, unsigned long addr)
{
	struct hmmk_lookup l;

	mmap_read_lock(ctx->mm);
	l = hmmk_lookup_locked(ctx, addr);
	mmap_read_unlock(ctx->mm);
	return l;
}

/* What maps @addr, and its page; the caller holds the mmap lock */
enum hmmk_pte hmmk_pte_locked(struct hmmk *ctx, unsigned long addr,
			      struct page **page)
{
	struct hmmk_lookup l = hmmk_lookup_locked(ctx, addr);

	*page = l.page;
	return l.pte;
}

enum hmmk_pte hmmk_pte(struct hmmk *ctx, unsigned long addr)
{
	return hmmk_lookup(ctx, addr).pte;
}

int hmmk_count_pte(struct hmmk *ctx, unsigned long addr, unsigned long npages,
		   enum hmmk_pte what)
{
	int n = 0;

	for (; npages--; addr += PAGE_SIZE)
		n += hmmk_pte(ctx, addr) == what;
	return n;
}

bool hmmk_pmd_mapped(struct hmmk *ctx, unsigned long addr)
{
	return hmmk_lookup(ctx, addr).pmd;
}

bool hmmk_pte_table(struct hmmk *ctx, unsigned long addr)
{
	return hmmk_lookup(ctx, addr).table;
}

struct page *hmmk_page(struct hmmk *ctx, unsigned long addr)
{
	return hmmk_lookup(ctx, addr).page;
}

/* Walks */

void hmmk_range_init(struct hmmk *ctx, struct hmm_range *range,
		     unsigned long addr, unsigned long npages,
		     unsigned long default_flags)
{
	*range = (struct hmm_range) {
		.notifier = &ctx->mni,
		.start = addr,
		.end = addr + (npages << PAGE_SHIFT),
		.default_flags = default_flags,
		.dev_private_owner = hmmk_owner(ctx),
	};
	range->hmm_pfns = kunit_kcalloc(ctx->test, npages, sizeof(unsigned long),
					GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(ctx->test, range->hmm_pfns);
}

/* hmm_range_fault() as a driver calls it: retry while the range changes */
int hmmk_fault(struct hmmk *ctx, struct hmm_range *range)
{
	int tries = 16;
	int ret;

	do {
		range->notifier_seq = mmu_interval_read_begin(&ctx->mni);
		mmap_read_lock(ctx->mm);
		ret = hmm_range_fault(range);
		mmap_read_unlock(ctx->mm);
	} while (ret == -EBUSY && --tries);
	return ret;
}

/* Invariants */

/* The tag of a mapped page, read without faulting it */
u64 hmmk_data(struct hmmk *ctx, struct page *page)
{
	if (IS_ENABLED(CONFIG_DEVICE_MIGRATION) && is_device_private_page(page))
		page = hmmk_dev_backing(page);
	return *(u64 *)page_address(page);
}

/* The whole page, hashed: a restore that loses any byte of it shows */
static u32 hmmk_page_hash(struct page *page)
{
	void *kaddr;
	u32 hash;

	if (IS_ENABLED(CONFIG_DEVICE_MIGRATION) && is_device_private_page(page))
		page = hmmk_dev_backing(page);
	kaddr = kmap_local_page(page);
	hash = jhash(kaddr, PAGE_SIZE, 0);
	kunmap_local(kaddr);
	return hash;
}

/*
 * How a PTE maps a page once a migration put it back: as the kernel's own
 * remove_migration_pte() does, with the VMA's protection, so a NUMA hint
 * is gone. Every other kind must come back as it was.
 */
static enum hmmk_pte hmmk_restored_kind(enum hmmk_pte pte)
{
	return pte == HMMK_PTE_NUMA ? HMMK_PTE_PRESENT : pte;
}

struct hmmk_snap *hmmk_snapshot(struct hmmk *ctx, unsigned long addr,
				unsigned long npages)
{
	struct hmmk_snap *snap;
	unsigned long i;

	snap = kunit_kzalloc(ctx->test, struct_size(snap, p, npages),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(ctx->test, snap);
	snap->addr = addr;
	snap->npages = npages;
	snap->counts = ctx->counts;
	/* Per-CPU LRU batches hold references of their own */
	lru_add_drain_all();
	for (i = 0; i < npages; i++) {
		struct hmmk_lookup l = hmmk_lookup(ctx, addr + i * PAGE_SIZE);

		snap->p[i].page = l.page;
		snap->p[i].pte = l.pte;
		snap->p[i].bits = l.bits;
		snap->p[i].pmd = l.pmd;
		if (!l.page || is_zero_pfn(page_to_pfn(l.page)))
			continue;
		snap->p[i].refs = folio_ref_count(page_folio(l.page));
		snap->p[i].mapcount = folio_mapcount(page_folio(l.page));
		snap->p[i].data = hmmk_data(ctx, l.page);
		snap->p[i].hash = hmmk_page_hash(l.page);
		snap->p[i].exclusive = PageAnon(l.page) &&
				       PageAnonExclusive(l.page);
		snap->p[i].dirty = folio_test_dirty(page_folio(l.page));
	}
	return snap;
}

/*
 * After a walk that failed, or a prepare undone by hmmk_restore(): the same
 * pages are mapped by the same kind of entry, with the PTE bits a migration
 * keeps (write, soft-dirty, uffd-wp; young and dirty where migration entries
 * carry them), unlocked, with the references, mapcounts, anon-exclusive bit
 * and contents they had, a folio dirty flag only the PTE's dirty bit may
 * set, and every invalidation started has ended.
 */
void hmmk_expect_restored(struct hmmk *ctx, struct hmmk_snap *snap)
{
	unsigned int kept = HMMK_WRITE | HMMK_SOFT_DIRTY | HMMK_UFFD_WP;
	struct kunit *test = ctx->test;
	unsigned long i;

#ifdef CONFIG_MIGRATION
	if (migration_entry_supports_ad())
		kept |= HMMK_YOUNG | HMMK_DIRTY;
#endif
	lru_add_drain_all();
	for (i = 0; i < snap->npages; i++) {
		unsigned long addr = snap->addr + i * PAGE_SIZE;
		struct hmmk_lookup l = hmmk_lookup(ctx, addr);
		struct page *page = snap->p[i].page;
		bool dirty;

		KUNIT_EXPECT_NE_MSG(test, l.pte, HMMK_PTE_MIGRATION,
				    "page %lu still a migration entry", i);
		KUNIT_EXPECT_PTR_EQ_MSG(test, l.page, page,
					"page %lu replaced", i);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_restored_kind(l.pte),
				    hmmk_restored_kind(snap->p[i].pte),
				    "page %lu: mapped by another kind of entry", i);
		KUNIT_EXPECT_EQ_MSG(test, l.bits & kept, snap->p[i].bits & kept,
				    "page %lu: PTE bits (write 1, dirty 2, young 4, soft-dirty 8, uffd-wp 16)",
				    i);
		if (!page || is_zero_pfn(page_to_pfn(page)))
			continue;
		KUNIT_EXPECT_FALSE_MSG(test, folio_test_locked(page_folio(page)),
				       "page %lu left locked", i);
		KUNIT_EXPECT_EQ_MSG(test, folio_ref_count(page_folio(page)),
				    snap->p[i].refs, "page %lu references", i);
		KUNIT_EXPECT_EQ_MSG(test, folio_mapcount(page_folio(page)),
				    snap->p[i].mapcount, "page %lu mapcount", i);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_data(ctx, page),
				    snap->p[i].data, "page %lu data", i);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_page_hash(page), snap->p[i].hash,
				    "page %lu: contents", i);
		KUNIT_EXPECT_EQ_MSG(test, PageAnon(page) && PageAnonExclusive(page),
				    snap->p[i].exclusive,
				    "page %lu: anon-exclusive bit", i);
		/*
		 * A prepare moves a dirty PTE's bit to the folio, as
		 * try_to_migrate_one() does; nothing else may change it: a
		 * clean folio under a clean PTE (MADV_FREE) stays clean, or
		 * reclaim would write back, or keep, a page it may drop.
		 */
		dirty = folio_test_dirty(page_folio(page));
		if (snap->p[i].dirty)
			KUNIT_EXPECT_TRUE_MSG(test, dirty,
					      "page %lu: folio dirty flag lost", i);
		else if (hmmk_restored_kind(snap->p[i].pte) == HMMK_PTE_PRESENT &&
			 !snap->p[i].pmd && !(snap->p[i].bits & HMMK_DIRTY))
			KUNIT_EXPECT_FALSE_MSG(test, dirty,
					       "page %lu: clean folio, clean PTE, made dirty",
					       i);
	}
	hmmk_expect_balanced(ctx);
}

/* The references a folio at rest holds: see hmmk_expect_unleaked() */
static int hmmk_refs_at_rest(struct folio *folio)
{
	int refs = folio_mapcount(folio);

	if (!folio_test_anon(folio) || folio_test_swapcache(folio))
		refs += folio_nr_pages(folio);
	return refs;
}

/*
 * What maps @addr once it is at rest. khugepaged may hold a folio locked,
 * unmapped and with two more references for a moment (collapse_file()); a
 * leak stays: look again, 20 ms at a time, while *@waits lasts.
 */
static struct hmmk_lookup hmmk_lookup_at_rest(struct hmmk *ctx,
					      unsigned long addr, int *waits)
{
	struct hmmk_lookup l;
	struct folio *folio;

	for (;;) {
		l = hmmk_lookup(ctx, addr);
		if (!l.page || !*waits)
			return l;
		folio = page_folio(l.page);
		if (!folio_test_locked(folio) &&
		    folio_ref_count(folio) == hmmk_refs_at_rest(folio))
			return l;
		(*waits)--;
		msleep(20);
		lru_add_drain_all();
	}
}

/*
 * Nothing left behind in [addr, addr + npages pages) whatever the walk did
 * to the pages there (split, prepared, restored): no migration entry, no
 * folio locked, and each folio mapped there holds one reference per
 * mapping, plus one per page in the page cache or the swap cache; at rest,
 * with nothing pinned. Device private pages and the zero pages are left
 * out: their references count otherwise.
 */
void hmmk_expect_unleaked(struct hmmk *ctx, unsigned long addr,
			  unsigned long npages)
{
	struct kunit *test = ctx->test;
	struct folio *folio, *last = NULL;
	int waits = 50;		/* a second in all */
	unsigned long i;

	lru_add_drain_all();
	for (i = 0; i < npages; i++) {
		struct hmmk_lookup l = hmmk_lookup(ctx, addr + i * PAGE_SIZE);

		KUNIT_EXPECT_NE_MSG(test, l.pte, HMMK_PTE_MIGRATION,
				    "page %lu still a migration entry", i);
		if (!l.page || l.pte == HMMK_PTE_ZERO ||
		    is_zone_device_page(l.page))
			continue;
		if (page_folio(l.page) == last)
			continue;
		l = hmmk_lookup_at_rest(ctx, addr + i * PAGE_SIZE, &waits);
		if (!l.page || l.pte == HMMK_PTE_ZERO ||
		    is_zone_device_page(l.page))
			continue;
		folio = page_folio(l.page);
		last = folio;
		KUNIT_EXPECT_FALSE_MSG(test, folio_test_locked(folio),
				       "page %lu left locked", i);
		KUNIT_EXPECT_EQ_MSG(test, folio_ref_count(folio),
				    hmmk_refs_at_rest(folio),
				    "page %lu (order %u, %d mappings): a reference leaked or was lost",
				    i, folio_order(folio), folio_mapcount(folio));
	}
}

void hmmk_expect_balanced(struct hmmk *ctx)
{
	KUNIT_EXPECT_EQ_MSG(ctx->test, ctx->counts.starts, ctx->counts.ends,
			    "mmu notifier: %d invalidate_range_start, %d end",
			    ctx->counts.starts, ctx->counts.ends);
	KUNIT_EXPECT_EQ(ctx->test, ctx->counts.open, 0);
	KUNIT_EXPECT_EQ_MSG(ctx->test, ctx->to_ram_unlocked, 0,
			    "migrate_to_ram(): %u pages collected unlocked",
			    ctx->to_ram_unlocked);
}

/* States */

const char *hmmk_state_name(enum hmmk_state state)
{
	static const char * const names[] = {
		[HMMK_NONE] = "none",
		[HMMK_ANON] = "anon",
		[HMMK_ZERO] = "zero",
		[HMMK_FREED] = "freed",
		[HMMK_LAZYFREE] = "lazyfree",
		[HMMK_DEV_OWN] = "dev-own",
		[HMMK_DEV_FOREIGN] = "dev-foreign",
	};

	return state < HMMK_NR_STATES ? names[state] : "?";
}

void hmmk_set_state(struct hmmk *ctx, unsigned long addr,
		    enum hmmk_state state)
{
	hmmk_set_states(ctx, addr, &state, 1);
}

void hmmk_set_states(struct hmmk *ctx, unsigned long addr,
		     const enum hmmk_state *states, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		unsigned long a = addr + i * PAGE_SIZE;

		switch (states[i]) {
		case HMMK_NONE:
			break;
		case HMMK_ZERO:
			hmmk_read(ctx, a, 1);
			break;
		case HMMK_FREED:
			hmmk_write(ctx, a, 1);
			hmmk_dontneed(ctx, a, 1);
			break;
		case HMMK_LAZYFREE:
			hmmk_write(ctx, a, 1);
			hmmk_madvise(ctx, a, PAGE_SIZE, MADV_FREE);
			break;
		case HMMK_ANON:
		case HMMK_DEV_OWN:
		case HMMK_DEV_FOREIGN:
			hmmk_write(ctx, a, 1);
			break;
		default:
			KUNIT_FAIL(ctx->test, "unknown state %d", states[i]);
		}
	}
	for (i = 0; IS_ENABLED(CONFIG_DEVICE_MIGRATION) && i < npages; i++) {
		unsigned long a = addr + i * PAGE_SIZE;

		if (states[i] == HMMK_DEV_OWN)
			hmmk_to_device(ctx, ctx->dev, a, 1, false);
		else if (states[i] == HMMK_DEV_FOREIGN)
			hmmk_to_device(ctx, ctx->foreign, a, 1, false);
	}
}
