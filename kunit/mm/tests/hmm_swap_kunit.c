// SPDX-License-Identifier: GPL-2.0
/*
 * The hmm_swap and hmm_swapcache suites: pages on swap, in the swap cache,
 * and KSM folios. They need swap on and ksmd running: run them again
 * (debugfs) once the system has both; at boot they skip.
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
 * Swap and KSM: states that need swap space and ksmd running, which the
 * guest's init sets up (zram swap, /sys/kernel/mm/ksm/run) before it runs
 * this suite again through debugfs. At boot there is no swap: it skips.
 */
static void hmmk_need_swap(struct kunit *test)
{
	if (total_swap_pages <= 0)
		kunit_skip(test, "needs swap: run it again once swap is on");
}

/* NPAGES written anonymous pages, all swapped out (MADV_PAGEOUT) */
static unsigned long hmmk_map_swapped(struct hmmk *ctx)
{
	struct kunit *test = ctx->test;
	unsigned long addr;

	hmmk_need_swap(test);
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	KUNIT_ASSERT_EQ(test, do_madvise(ctx->mm, addr, NPAGES * PAGE_SIZE,
					 MADV_PAGEOUT), 0);
	KUNIT_ASSERT_EQ_MSG(test, hmmk_count_pte(ctx, addr, NPAGES,
						 HMMK_PTE_SWAP), NPAGES,
			    "MADV_PAGEOUT did not swap every page out");
	return addr;
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
 * none, as it always did, and leaves them on swap.
 */
static void hmm_swap_entries(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long addr, i;
	struct hmmk_prep p;

	addr = hmmk_map_swapped(ctx);

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
	struct hmmk *ctx = test->priv;
	struct hmmk_snap *snap;
	struct hmmk_prep p;
	unsigned long addr, i;

	addr = hmmk_map_swapped(ctx);
	hmmk_read(ctx, addr, NPAGES);
	snap = hmmk_snapshot(ctx, addr, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_ASSERT_TRUE_MSG(test, snap->p[i].page &&
				      folio_test_swapcache(page_folio(snap->p[i].page)),
				      "page %lu is not a mapped swap cache page: is swap on a synchronous device (zram)? Its swap-in frees the swap cache",
				      i);

	/* As plain migrate_vma_setup() collects them, every page */
	HMMK_ASSERT_RET(test, hmmk_prepare_as_plain(ctx, &p, *via, addr, NPAGES,
						    HMM_PFN_REQ_FAULT,
						    MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test,
					migrate_pfn_to_page(p.migrate.src[i]),
					snap->p[i].page, "page %lu", i);
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

/*
 * Another thread holds a folio's lock until someone waits for it, and then
 * looks whether @probe's folio is locked: the walk must not wait holding it.
 */
struct hmmk_locker {
	struct folio *folio;	/* its reference is the thread's to drop */
	struct folio *probe;
	struct completion locked, done;
	bool waited;		/* someone waited before it let go */
	bool probe_locked;	/* and meanwhile @probe was locked */
};

static int hmmk_locker_fn(void *data)
{
	struct hmmk_locker *t = data;
	int ms;

	folio_lock(t->folio);
	complete(&t->locked);
	for (ms = 0; ms < 2000 && !folio_test_waiters(t->folio); ms += 20)
		msleep(20);
	t->waited = folio_test_waiters(t->folio);
	t->probe_locked = folio_test_locked(t->probe);
	folio_unlock(t->folio);
	folio_put(t->folio);
	complete_all(&t->done);
	return 0;
}

/* The thread uses @t: let it finish before @t is freed */
static void hmmk_locker_wait(void *data)
{
	struct hmmk_locker *t = data;

	wait_for_completion(&t->done);
}

/*
 * Pages read back from swap, then page 1 swapped out again while its folio
 * stays in the swap cache (a reference keeps reclaim from freeing it), and
 * another thread holds that folio's lock. The walk prepares page 0 first,
 * so it may not wait for page 1's lock: the anonymous swap-in is asked
 * with FAULT_FLAG_RETRY_NOWAIT and answers VM_FAULT_RETRY. The walk must
 * then put page 0 back and fault again, waiting, and prepare every page;
 * not give up on page 1 (-EBUSY, or not prepared with MIGRATE_VMA_FAULT).
 * Page 1 is the only page to fault: no later fault can hide the retry.
 */
static void hmm_swap_cache_locked(struct kunit *test)
{
	const enum hmmk_via *via = test->param_value;
	struct hmmk *ctx = test->priv;
	struct task_struct *task;
	struct hmmk_locker *t;
	unsigned long addr, i;
	struct hmmk_prep p;
	struct page *page;
	int tries;

	addr = hmmk_map_swapped(ctx);
	hmmk_read(ctx, addr, NPAGES);
	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	init_completion(&t->locked);
	init_completion(&t->done);
	page = hmmk_page(ctx, addr + PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, page);
	t->folio = page_folio(page);
	t->probe = page_folio(hmmk_page(ctx, addr));
	KUNIT_ASSERT_TRUE_MSG(test, folio_test_swapcache(t->folio),
			      "page 1 is not a mapped swap cache page: is swap on a synchronous device (zram)?");
	folio_get(t->folio);
	/*
	 * MADV_PAGEOUT skips a folio off the LRU: not yet drained there, or
	 * isolated for a moment by someone else. Try again a few times.
	 */
	for (tries = 0; tries < 10; tries++) {
		lru_add_drain_all();
		KUNIT_EXPECT_EQ(test, do_madvise(ctx->mm, addr + PAGE_SIZE,
						 PAGE_SIZE, MADV_PAGEOUT), 0);
		if (hmmk_pte(ctx, addr + PAGE_SIZE) == HMMK_PTE_SWAP)
			break;
		msleep(20);
	}
	task = kthread_run(hmmk_locker_fn, t, "hmmk-locker");
	if (IS_ERR(task))
		folio_put(t->folio);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmmk_locker_wait,
							t), 0);
	wait_for_completion(&t->locked);
	KUNIT_ASSERT_EQ(test, hmmk_pte(ctx, addr), HMMK_PTE_PRESENT);
	KUNIT_ASSERT_EQ_MSG(test, hmmk_pte(ctx, addr + PAGE_SIZE),
			    HMMK_PTE_SWAP, "page 1 was not swapped out");
	KUNIT_ASSERT_TRUE_MSG(test, folio_test_swapcache(t->folio),
			      "page 1 left the swap cache");

	HMMK_EXPECT_RET(test, hmmk_prepare(ctx, &p, *via, addr, NPAGES,
					   HMM_PFN_REQ_FAULT,
					   MIGRATE_VMA_SELECT_SYSTEM), 0);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&t->done, 10 * HZ));
	KUNIT_EXPECT_TRUE_MSG(test, t->waited,
			      "nothing waited for page 1's folio lock");
	KUNIT_EXPECT_FALSE_MSG(test, t->probe_locked,
			       "the walk waited for page 1 holding page 0 prepared");
	KUNIT_EXPECT_EQ(test, p.migrate.cpages, NPAGES);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_TRUE_MSG(test,
				      p.migrate.src[i] & MIGRATE_PFN_MIGRATE,
				      "page %lu not prepared", i);
	hmmk_prep_restore(ctx, &p);
	hmmk_expect_data(ctx, addr, NPAGES);
	hmmk_expect_unleaked(ctx, addr, NPAGES);
	hmmk_expect_balanced(ctx);
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
	struct hmmk *ctx = test->priv;
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
	.init = hmmk_suite_init,
	.suite_init = hmm_swap_suite_init,
	.test_cases = hmm_swap_test_cases,
};

static struct kunit_case hmm_swapcache_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_swap_entries, hmmk_vias_plain),
	HMMK_CASE_PARAMS(hmm_swap_cache, hmmk_vias),
	HMMK_CASE_PARAMS(hmm_swap_cache_locked, hmmk_vias),
	{}
};

/*
 * On a swap device that keeps the swap cache (a disk, here a loop device):
 * swap-in reads ahead into the swap cache, and a folio read back stays
 * there, mapped, while its slot is kept.
 */
static struct kunit_suite hmm_swapcache_test_suite = {
	.name = "hmm_swapcache",
	.init = hmmk_suite_init,
	.suite_init = hmm_swap_suite_init,
	.test_cases = hmm_swapcache_test_cases,
};

kunit_test_suites(&hmm_swap_test_suite, &hmm_swapcache_test_suite);
