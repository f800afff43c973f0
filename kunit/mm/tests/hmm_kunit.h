/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixtures shared by the HMM KUnit tests.
 *
 * Every test gets its own mm (kunit_attach_mm()), maps memory in it and puts
 * each page into a known state through the real mm paths: user accesses,
 * madvise(), migrate_vma_*() into a device private pagemap made by the test.
 * Page table work, migration finalize and munmap happen in the test body;
 * KUnit actions only free kernel objects.
 */
#ifndef _MM_TESTS_HMM_KUNIT_H
#define _MM_TESTS_HMM_KUNIT_H

#include <kunit/test.h>
#include <linux/hmm.h>
#include <linux/migrate.h>
#include <linux/mmu_notifier.h>

/* A PMD's worth of pages: HPAGE_PMD_NR does not build without THP */
#define HMMK_PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#define HMMK_PMD_PAGES	BIT(HMMK_PMD_ORDER)

/*
 * Table-driven cases: the case's param_init (<table>_init) registers the
 * table and kunit_array_gen_params() walks it, so KUnit prints a plan line
 * ("1..N") before the parameters. param_init runs outside the test's
 * try-catch: it only registers the table.
 */
#define HMMK_CASE_PARAMS(test_name, table)				\
	KUNIT_CASE_PARAM_WITH_INIT(test_name, kunit_array_gen_params,	\
				   table##_init, NULL)

/*
 * The get_description of a case table whose rows start with their name,
 * "const char *desc" (a static_assert() beside each row type says so).
 */
void hmmk_desc(struct kunit *test, const void *param, char *desc);

/* What a page of a test range is made into before the walk */
enum hmmk_state {
	HMMK_NONE,		/* never touched: pte_none */
	HMMK_ANON,		/* written: present and writable */
	HMMK_ZERO,		/* read only: the shared zero page */
	HMMK_FREED,		/* written, then MADV_DONTNEED: pte_none again */
	HMMK_LAZYFREE,		/* written, then MADV_FREE: present, clean */
	HMMK_DEV_OWN,		/* migrated to our device private memory */
	HMMK_DEV_FOREIGN,	/* migrated to another owner's device memory */
	HMMK_NR_STATES,
};

/* What the CPU page table holds for one address */
enum hmmk_pte {
	HMMK_PTE_NONE,
	HMMK_PTE_PRESENT,
	HMMK_PTE_ZERO,
	HMMK_PTE_MIGRATION,
	HMMK_PTE_DEVICE,
	HMMK_PTE_NUMA,		/* present, PROT_NONE for NUMA hinting */
	HMMK_PTE_SWAP,		/* a swap entry: the page is on swap */
	HMMK_PTE_OTHER,
};

/* mmu notifier calls seen on the test mm */
struct hmmk_counts {
	int starts;
	int ends;
	int own_migrate;	/* MMU_NOTIFY_MIGRATE with our owner */
	int open;		/* started, not ended yet */
	int nested_in_own;	/* starts while one of ours was open */
};

struct hmmk_dev;

#define HMMK_TO_RAM_MAX	16

struct hmmk {
	struct kunit *test;
	struct mm_struct *mm;
	/* the driver side: an interval notifier over the whole mm */
	struct mmu_interval_notifier mni;
	/* the observer: counts every invalidation */
	struct mmu_notifier mn;
	spinlock_t lock;		/* protects counts and own_open */
	struct hmmk_counts counts;
	int own_open;
	struct hmmk_dev *dev;		/* owner hmmk_owner(ctx) */
	struct hmmk_dev *foreign;	/* another owner */
	/*
	 * How the devices' migrate_to_ram() migrates back: its flags added to
	 * MIGRATE_VMA_SELECT_DEVICE_PRIVATE, the pages around the fault it
	 * takes along (at most HMMK_TO_RAM_MAX), and the cpages it last saw;
	 * how often it was called, and whether it refuses: success with
	 * nothing migrated, as a driver that lost a race and lets the CPU
	 * fault again.
	 */
	unsigned long to_ram_flags;
	unsigned long to_ram_npages;
	unsigned long to_ram_cpages;
	unsigned int to_ram_calls;
	bool to_ram_refuse;
	/* Pages migrate_vma_setup() collected without their folio locked */
	unsigned int to_ram_unlocked;
	/*
	 * Whether the folio of probe_page was locked while the walk slept:
	 * seen by a device's migrate_to_ram() and by the release of held
	 * migration entries once the walk waits on them. -1: not seen.
	 */
	struct page *probe_page;
	int probe_locked;
	/* Whether it was locked when an invalidation not ours last started */
	int probe_locked_other;
	u32 seed;			/* tags written into pages */
};

/*
 * The suites' .init: a context for each case (and each parameter) in
 * test->priv, its mm attached to the case's thread.
 */
int hmmk_suite_init(struct kunit *test);

/* The device private owner of the test: range->dev_private_owner */
static inline void *hmmk_owner(struct hmmk *ctx)
{
	return ctx;
}

/* Memory */
unsigned long hmmk_map_anon(struct hmmk *ctx, unsigned long npages);
unsigned long hmmk_map_thp(struct hmmk *ctx, unsigned long npmds);
unsigned long hmmk_map_shmem(struct hmmk *ctx, unsigned long npages,
			     bool shared);
unsigned long hmmk_map_pfnmap(struct hmmk *ctx, unsigned long npages);
unsigned long hmmk_map_fixed(struct hmmk *ctx, unsigned long addr,
			     unsigned long npages, unsigned long prot);
void hmmk_mprotect(struct hmmk *ctx, unsigned long addr, unsigned long npages,
		   unsigned long prot);
void hmmk_unmap(struct hmmk *ctx, unsigned long addr, unsigned long npages);
/*
 * Pin the page at @addr as a driver would (FOLL_LONGTERM). hmmk_unpin()
 * unpins it; so does the end of the test, after a failed assertion.
 */
struct page *hmmk_pin(struct hmmk *ctx, unsigned long addr);
void hmmk_unpin(struct hmmk *ctx, struct page *page);

/* Page states */
void hmmk_set_state(struct hmmk *ctx, unsigned long addr,
		    enum hmmk_state state);
void hmmk_set_states(struct hmmk *ctx, unsigned long addr,
		     const enum hmmk_state *states, unsigned long npages);
const char *hmmk_state_name(enum hmmk_state state);
void hmmk_write(struct hmmk *ctx, unsigned long addr, unsigned long npages);
void hmmk_read(struct hmmk *ctx, unsigned long addr, unsigned long npages);
void hmmk_dontneed(struct hmmk *ctx, unsigned long addr, unsigned long npages);
/* MADV_GUARD_INSTALL: a guard marker in each PTE, any access faults */
void hmmk_guard(struct hmmk *ctx, unsigned long addr, unsigned long npages);
/* NUMA hinting faults armed as task_numa_work() arms them: pages changed */
unsigned long hmmk_numa_hint(struct hmmk *ctx, unsigned long addr,
			     unsigned long npages);
u64 hmmk_tag(struct hmmk *ctx, unsigned long addr);
/* The first u64 of the page at @addr as the CPU sees it (faults it in) */
u64 hmmk_peek(struct hmmk *ctx, unsigned long addr);
/* The first u64 of a mapped or device page, read without faulting */
u64 hmmk_data(struct hmmk *ctx, struct page *page);

/* Page tables */
enum hmmk_pte hmmk_pte(struct hmmk *ctx, unsigned long addr);
int hmmk_count_pte(struct hmmk *ctx, unsigned long addr, unsigned long npages,
		   enum hmmk_pte what);
bool hmmk_pmd_mapped(struct hmmk *ctx, unsigned long addr);
bool hmmk_pte_table(struct hmmk *ctx, unsigned long addr);
struct page *hmmk_page(struct hmmk *ctx, unsigned long addr);
/* The same, the mmap lock held by the caller: what maps @addr, its page */
enum hmmk_pte hmmk_pte_locked(struct hmmk *ctx, unsigned long addr,
			      struct page **page);

/* Walks */
int hmmk_fault(struct hmmk *ctx, struct hmm_range *range);
void hmmk_range_init(struct hmmk *ctx, struct hmm_range *range,
		     unsigned long addr, unsigned long npages,
		     unsigned long default_flags);
void hmmk_migrate_init(struct hmmk *ctx, struct migrate_vma *migrate,
		       unsigned long addr, unsigned long npages,
		       unsigned long flags);
void hmmk_restore(struct migrate_vma *migrate);

/* Invariants: snapshot before, check after (success or error) */
/* Bits of a present PTE that a migration put back must keep */
enum {
	HMMK_WRITE	= BIT(0),
	HMMK_DIRTY	= BIT(1),
	HMMK_YOUNG	= BIT(2),
	HMMK_SOFT_DIRTY	= BIT(3),	/* CONFIG_MEM_SOFT_DIRTY: x86_64 */
	HMMK_UFFD_WP	= BIT(4),
};

struct hmmk_snap {
	unsigned long addr;
	unsigned long npages;
	struct hmmk_counts counts;
	struct {
		struct page *page;
		enum hmmk_pte pte;
		unsigned int bits;	/* HMMK_WRITE...: of a present PTE */
		int refs;
		int mapcount;
		u64 data;
		u32 hash;		/* of the whole page */
		bool exclusive;		/* PageAnonExclusive() */
		bool dirty;		/* folio_test_dirty() */
		bool pmd;		/* mapped by a PMD: bits unknown */
	} p[];
};

struct hmmk_snap *hmmk_snapshot(struct hmmk *ctx, unsigned long addr,
				unsigned long npages);
void hmmk_expect_restored(struct hmmk *ctx, struct hmmk_snap *snap);
void hmmk_expect_unleaked(struct hmmk *ctx, unsigned long addr,
			  unsigned long npages);
void hmmk_expect_balanced(struct hmmk *ctx);

/* Migration entries held by the test, released by a helper thread */
struct hmmk_held;
struct hmmk_held *hmmk_hold(struct hmmk *ctx, unsigned long addr,
			    unsigned long npages);
struct hmmk_held *hmmk_hold_thp(struct hmmk *ctx, unsigned long addr);
void hmmk_release_after(struct hmmk_held *held, unsigned int ms);
void hmmk_release_wait(struct hmmk_held *held);
bool hmmk_released(struct hmmk_held *held);

/* Device private memory (ZONE_DEVICE); hmmk_dev_skip() names what is missing */
int hmmk_dev_init(struct hmmk *ctx);
void hmmk_to_device(struct hmmk *ctx, struct hmmk_dev *dev,
		    unsigned long addr, unsigned long npages, bool compound);
unsigned long hmmk_dev_pages_used(struct hmmk_dev *dev);
bool hmmk_dev_page(struct hmmk_dev *dev, struct page *page);
struct page *hmmk_dev_backing(struct page *page);

/* kunit_vm_mmap() returns 0 or an error value on failure */
#define HMMK_ASSERT_ADDR(test, addr)					\
	do {								\
		unsigned long __addr = (addr);				\
									\
		KUNIT_ASSERT_TRUE_MSG(test, __addr && __addr < TASK_SIZE,	\
				      "mapping failed: %ld", (long)__addr);	\
	} while (0)

/* Print errno names, not numbers */
#define HMMK_RET(KUNIT_OP, test, ret, want)				\
	do {								\
		int __ret = (ret), __want = (want);			\
									\
		KUNIT_OP(test, __ret, __want, "returned %pe, want %pe",	\
			 ERR_PTR(__ret), ERR_PTR(__want));		\
	} while (0)
#define HMMK_EXPECT_RET(test, ret, want)				\
	HMMK_RET(KUNIT_EXPECT_EQ_MSG, test, ret, want)
#define HMMK_ASSERT_RET(test, ret, want)				\
	HMMK_RET(KUNIT_ASSERT_EQ_MSG, test, ret, want)

#define HMMK_SKIP_UNLESS(test, cond, what)				\
	do {								\
		if (!(cond))						\
			kunit_skip(test, "needs " what);		\
	} while (0)

#endif /* _MM_TESTS_HMM_KUNIT_H */
