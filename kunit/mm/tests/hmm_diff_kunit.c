// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of the unified walk: for random mixes of page states
 * (seeded, the seed printed), hmm_range_fault(HMM_PFN_REQ_FAULT |
 * HMM_PFN_REQ_MIGRATE) + migrate_hmm_range_setup() must collect what the two
 * walk reference, hmm_range_fault(HMM_PFN_REQ_FAULT) then migrate_vma_setup(),
 * collects on an identical copy, and leave the same state once restored.
 */
#include <linux/prandom.h>
#include <linux/rmap.h>

#include "hmm_kunit.h"

#define NPAGES	64

static const u32 hmm_diff_seeds[] = {
	1, 2, 3, 5, 8, 13, 21, 34, 0x5eed, 0xdecade, 0xfeed, 0xc0ffee,
};

static void hmm_diff_seeds_desc(struct kunit *test, const void *param,
				char *desc)
{
	const u32 *seed = param;

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "seed %#x", *seed);
}

static int hmm_diff_seeds_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_diff_seeds,
				    ARRAY_SIZE(hmm_diff_seeds),
				    hmm_diff_seeds_desc);
	return 0;
}

/* How a collected page relates to what was written at its address */
static int hmm_diff_data(struct hmmk *ctx, unsigned long mpfn,
			 unsigned long addr)
{
	struct page *page = migrate_pfn_to_page(mpfn);
	u64 data;

	if (!page)
		return -1;
	data = hmmk_data(ctx, page);
	return data == hmmk_tag(ctx, addr) ? 1 : data ? 2 : 0;
}

/* The zero page and pte_none both mean "no data here" */
static enum hmmk_pte hmm_diff_pte(struct hmmk *ctx, unsigned long addr)
{
	enum hmmk_pte pte = hmmk_pte(ctx, addr);

	return pte == HMMK_PTE_ZERO ? HMMK_PTE_NONE : pte;
}

static void hmm_diff_collect(struct hmmk *ctx, unsigned long addr,
			     struct migrate_vma *m, bool unified)
{
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM |
			       MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	struct kunit *test = ctx->test;
	struct hmm_range range;
	unsigned long i;
	int ret = 0;

	hmmk_migrate_init(ctx, m, addr, NPAGES, select);
	if (unified) {
		hmmk_range_init(ctx, &range, addr, NPAGES,
				HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
		range.migrate = m;
		HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	}
	/*
	 * The reference faults one page per call: a range wide call faults
	 * every page from the first one that needs it to the end of its PMD,
	 * migrating our own device pages back to RAM on the way.
	 */
	for (i = 0; !unified && i < NPAGES; i++) {
		hmmk_range_init(ctx, &range, addr + i * PAGE_SIZE, 1,
				HMM_PFN_REQ_FAULT);
		HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	}

	mmap_read_lock(ctx->mm);
	if (unified) {
		migrate_hmm_range_setup(&range);
	} else {
		m->vma = vma_lookup(ctx->mm, addr);
		ret = migrate_vma_setup(m);
	}
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);
}

static void hmm_diff_random_states(struct kunit *test)
{
	const u32 *seed = test->param_value;
	enum hmmk_state states[NPAGES];
	struct hmmk *ctx = test->priv;
	struct migrate_vma ref, uni;
	struct rnd_state rnd;
	unsigned long a, b, i;
	int nstates = HMMK_DEV_OWN;	/* the states with no device */

	if (IS_ENABLED(CONFIG_DEVICE_PRIVATE)) {
		KUNIT_ASSERT_EQ(test, hmmk_dev_init(ctx), 0);
		nstates = HMMK_NR_STATES;
	}
	prandom_seed_state(&rnd, *seed);
	for (i = 0; i < NPAGES; i++)
		states[i] = prandom_u32_state(&rnd) % nstates;
	kunit_info(test, "seed %#x, %d states", *seed, nstates);

	a = hmmk_map_anon(ctx, NPAGES);
	b = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, a, states, NPAGES);
	hmmk_set_states(ctx, b, states, NPAGES);

	hmm_diff_collect(ctx, a, &ref, false);
	hmm_diff_collect(ctx, b, &uni, true);

	KUNIT_EXPECT_EQ(test, uni.npages, ref.npages);
	KUNIT_EXPECT_EQ(test, uni.cpages, ref.cpages);
	for (i = 0; i < NPAGES; i++) {
		unsigned long pa = a + i * PAGE_SIZE, pb = b + i * PAGE_SIZE;
		struct page *rp = migrate_pfn_to_page(ref.src[i]);
		struct page *up = migrate_pfn_to_page(uni.src[i]);

		KUNIT_EXPECT_EQ_MSG(test,
				    uni.src[i] & (BIT(MIGRATE_PFN_SHIFT) - 1),
				    ref.src[i] & (BIT(MIGRATE_PFN_SHIFT) - 1),
				    "page %lu (%s): src flags", i,
				    hmmk_state_name(states[i]));
		KUNIT_EXPECT_EQ_MSG(test, hmm_diff_data(ctx, uni.src[i], pb),
				    hmm_diff_data(ctx, ref.src[i], pa),
				    "page %lu (%s): data", i,
				    hmmk_state_name(states[i]));
		KUNIT_EXPECT_EQ_MSG(test, up && is_device_private_page(up),
				    rp && is_device_private_page(rp),
				    "page %lu (%s): device page", i,
				    hmmk_state_name(states[i]));
		KUNIT_EXPECT_EQ_MSG(test, hmm_diff_pte(ctx, pb),
				    hmm_diff_pte(ctx, pa),
				    "page %lu (%s): page table once prepared",
				    i, hmmk_state_name(states[i]));
	}

	mmap_read_lock(ctx->mm);
	hmmk_restore(&ref);
	hmmk_restore(&uni);
	mmap_read_unlock(ctx->mm);
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, hmm_diff_pte(ctx, b + i * PAGE_SIZE),
				    hmm_diff_pte(ctx, a + i * PAGE_SIZE),
				    "page %lu (%s): page table once restored",
				    i, hmmk_state_name(states[i]));
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, a, NPAGES);
	hmmk_unmap(ctx, b, NPAGES);
}

/* The per-pfn requests drawn for each page */
static const unsigned long hmm_diff_reqs[] = {
	0,
	HMM_PFN_REQ_FAULT,
	HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	HMM_PFN_REQ_MIGRATE,
	HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE,
};

#define HMM_DIFF_OUT	(HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR)

/*
 * One call of the unified walk on [b, + n) with the per-pfn requests @reqs
 * against the reference on the identical copy [a, + n): each page faulted as
 * it asks by hmm_range_fault() of that page alone, then one
 * migrate_vma_setup(). The unified walk must fault what each page asks,
 * report the pages that do not ask for migration as hmm_range_fault() does,
 * prepare the others as migrate_vma_setup() does, and leave the same page
 * tables once restored, leaking nothing. @what names each page's state.
 */
static void hmm_diff_requests(struct hmmk *ctx, unsigned long a,
			      unsigned long b, const unsigned long *reqs,
			      const char * const *what, unsigned long n)
{
	unsigned long select = MIGRATE_VMA_SELECT_SYSTEM |
			       MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	struct kunit *test = ctx->test;
	struct migrate_vma ref, uni;
	struct hmm_range range;
	unsigned long *ref_out, i;
	enum hmmk_pte *before;
	int ret;

	ref_out = kunit_kmalloc_array(test, n, sizeof(*ref_out), GFP_KERNEL);
	before = kunit_kmalloc_array(test, n, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ref_out);
	KUNIT_ASSERT_NOT_NULL(test, before);
	/* Another migration's entries are there before the walk */
	for (i = 0; i < n; i++)
		before[i] = hmmk_pte(ctx, b + i * PAGE_SIZE);
	for (i = 0; i < n; i++) {
		hmmk_range_init(ctx, &range, a + i * PAGE_SIZE, 1,
				reqs[i] & ~HMM_PFN_REQ_MIGRATE);
		HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
		ref_out[i] = range.hmm_pfns[0] & HMM_DIFF_OUT;
	}
	hmmk_migrate_init(ctx, &ref, a, n, select);
	mmap_read_lock(ctx->mm);
	ref.vma = vma_lookup(ctx->mm, a);
	ret = migrate_vma_setup(&ref);
	mmap_read_unlock(ctx->mm);
	HMMK_ASSERT_RET(test, ret, 0);

	hmmk_migrate_init(ctx, &uni, b, n, select);
	hmmk_range_init(ctx, &range, b, n, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE |
			       HMM_PFN_REQ_MIGRATE;
	range.migrate = &uni;
	memcpy(range.hmm_pfns, reqs, n * sizeof(*reqs));
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	mmap_read_lock(ctx->mm);
	migrate_hmm_range_setup(&range);
	mmap_read_unlock(ctx->mm);

	for (i = 0; i < n; i++) {
		bool migrate = reqs[i] & HMM_PFN_REQ_MIGRATE;
		unsigned long pb = b + i * PAGE_SIZE;

		if (!migrate) {
			KUNIT_EXPECT_FALSE_MSG(test, uni.src[i] & MIGRATE_PFN_MIGRATE,
					       "page %lu (%s, request %#lx): prepared unasked",
					       i, what[i], reqs[i]);
			KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMM_DIFF_OUT,
					    ref_out[i],
					    "page %lu (%s, request %#lx): not as hmm_range_fault()",
					    i, what[i], reqs[i]);
			KUNIT_EXPECT_TRUE_MSG(test, hmmk_pte(ctx, pb) !=
					      HMMK_PTE_MIGRATION ||
					      before[i] == HMMK_PTE_MIGRATION,
					      "page %lu (%s, request %#lx): unmapped unasked",
					      i, what[i], reqs[i]);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test,
				    uni.src[i] & (BIT(MIGRATE_PFN_SHIFT) - 1),
				    ref.src[i] & (BIT(MIGRATE_PFN_SHIFT) - 1),
				    "page %lu (%s, request %#lx): src flags", i,
				    what[i], reqs[i]);
		KUNIT_EXPECT_EQ_MSG(test, !!(range.hmm_pfns[i] & HMM_PFN_MIGRATE),
				    !!(ref.src[i] & MIGRATE_PFN_MIGRATE),
				    "page %lu (%s, request %#lx): HMM_PFN_MIGRATE", i,
				    what[i], reqs[i]);
		KUNIT_EXPECT_EQ_MSG(test, hmm_diff_data(ctx, uni.src[i], pb),
				    hmm_diff_data(ctx, ref.src[i], a + i * PAGE_SIZE),
				    "page %lu (%s, request %#lx): data", i,
				    what[i], reqs[i]);
		KUNIT_EXPECT_EQ_MSG(test, hmm_diff_pte(ctx, pb),
				    hmm_diff_pte(ctx, a + i * PAGE_SIZE),
				    "page %lu (%s, request %#lx): page table once prepared",
				    i, what[i], reqs[i]);
	}

	mmap_read_lock(ctx->mm);
	hmmk_restore(&ref);
	hmmk_restore(&uni);
	mmap_read_unlock(ctx->mm);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, hmm_diff_pte(ctx, b + i * PAGE_SIZE),
				    hmm_diff_pte(ctx, a + i * PAGE_SIZE),
				    "page %lu (%s, request %#lx): page table once restored",
				    i, what[i], reqs[i]);
}

/*
 * Random page states and random per-pfn requests (see hmm_diff_requests()).
 * Runs of pages needing a fault end at any entry kind the states make, and
 * next to pages asking something else.
 */
static void hmm_diff_random_requests(struct kunit *test)
{
	const u32 *seed = test->param_value;
	enum hmmk_state states[NPAGES];
	const char *what[NPAGES];
	unsigned long reqs[NPAGES];
	struct hmmk *ctx = test->priv;
	struct rnd_state rnd;
	unsigned long a, b, i;
	int nstates = HMMK_DEV_OWN;	/* the states with no device */

	if (IS_ENABLED(CONFIG_DEVICE_PRIVATE)) {
		KUNIT_ASSERT_EQ(test, hmmk_dev_init(ctx), 0);
		nstates = HMMK_NR_STATES;
	}
	prandom_seed_state(&rnd, *seed);
	for (i = 0; i < NPAGES; i++) {
		states[i] = prandom_u32_state(&rnd) % nstates;
		reqs[i] = hmm_diff_reqs[prandom_u32_state(&rnd) %
					ARRAY_SIZE(hmm_diff_reqs)];
		what[i] = hmmk_state_name(states[i]);
	}
	a = hmmk_map_anon(ctx, NPAGES);
	b = hmmk_map_anon(ctx, NPAGES);
	hmmk_set_states(ctx, a, states, NPAGES);
	hmmk_set_states(ctx, b, states, NPAGES);

	hmm_diff_requests(ctx, a, b, reqs, what, NPAGES);
	hmmk_expect_unleaked(ctx, b, NPAGES);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, a, NPAGES);
	hmmk_unmap(ctx, b, NPAGES);
}

/*
 * Runs of pages that need the same fault, which the walk faults in one go
 * (its look-ahead), ended by each entry kind the kernel makes in an
 * anonymous VMA. Besides the states of hmmk_set_states(): a migration entry
 * of another migration, held by the test, and a device-exclusive entry.
 */
enum {
	D_NONE = HMMK_NONE,
	D_ANON = HMMK_ANON,
	D_ZERO = HMMK_ZERO,
	D_DEV_OWN = HMMK_DEV_OWN,
	D_DEV_FOREIGN = HMMK_DEV_FOREIGN,
	D_HELD = HMMK_NR_STATES,	/* written, then another's migration entry */
	D_EXCL,				/* written, then device-exclusive */
};

#define D_RUN	6

#define RF	HMM_PFN_REQ_FAULT
#define RW	(HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE)
#define RM	HMM_PFN_REQ_MIGRATE
#define RFM	(HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE)

struct hmm_diff_run {
	const char *desc;
	bool device;			/* needs CONFIG_DEVICE_PRIVATE */
	int states[D_RUN];
	unsigned long reqs[D_RUN];
};

static_assert(offsetof(struct hmm_diff_run, desc) == 0);

static const struct hmm_diff_run hmm_diff_runs[] = {
	{ "zero pages after a write fault", false,
	  { D_NONE, D_ZERO, D_ZERO, D_ZERO, D_NONE, D_ZERO },
	  { RW, RW, RW, 0, RF, RFM } },
	{ "zero pages asked to migrate after a write fault", false,
	  { D_ZERO, D_ZERO, D_ZERO, D_ANON, D_ZERO, D_ZERO },
	  { RW, RM, RFM, RW, RF, 0 } },
	{ "pte_none asking less after one that faults", false,
	  { D_NONE, D_NONE, D_NONE, D_NONE, D_NONE, D_NONE },
	  { RF, 0, RF, RM, RW, RFM } },
	{ "a migration entry after a fault", false,
	  { D_NONE, D_HELD, D_HELD, D_NONE, D_ANON, D_HELD },
	  { RF, 0, RM, RF, RFM, 0 } },
	{ "a migration entry asked to fault after a fault", false,
	  { D_NONE, D_HELD, D_NONE, D_NONE, D_HELD, D_ANON },
	  { RF, RF, RF, RF, RFM, RM } },
	{ "our device pages after a fault", true,
	  { D_NONE, D_DEV_OWN, D_DEV_OWN, D_NONE, D_DEV_OWN, D_ANON },
	  { RF, RM, RF, RW, 0, RFM } },
	{ "another owner's device pages after a fault", true,
	  { D_NONE, D_DEV_FOREIGN, D_NONE, D_DEV_FOREIGN, D_DEV_FOREIGN, D_NONE },
	  { RF, 0, RF, RF, RM, RFM } },
	{ "device-exclusive entries in a row", true,
	  { D_EXCL, D_EXCL, D_EXCL, D_NONE, D_EXCL, D_ANON },
	  { RF, RF, 0, RF, RF, RM } },
	{ "device-exclusive entries after a zero page", true,
	  { D_ZERO, D_EXCL, D_EXCL, D_ZERO, D_EXCL, D_NONE },
	  { RW, RF, RM, RW, 0, RFM } },
};

#undef RF
#undef RW
#undef RM
#undef RFM

static int hmm_diff_runs_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_diff_runs,
				    ARRAY_SIZE(hmm_diff_runs), hmmk_desc);
	return 0;
}

static const char *hmm_diff_run_name(int state)
{
	if (state == D_HELD)
		return "migration entry";
	if (state == D_EXCL)
		return "device-exclusive";
	return hmmk_state_name(state);
}

/* Make [addr, + D_RUN) as @run says; the held entries go in @held */
static void hmm_diff_run_set(struct hmmk *ctx, unsigned long addr,
			     const struct hmm_diff_run *run,
			     struct hmmk_held **held)
{
	struct kunit *test = ctx->test;
	unsigned long i;

	for (i = 0; i < D_RUN; i++) {
		unsigned long p = addr + i * PAGE_SIZE;

		held[i] = NULL;
		if (run->states[i] < HMMK_NR_STATES) {
			hmmk_set_state(ctx, p, run->states[i]);
			continue;
		}
		hmmk_write(ctx, p, 1);
		if (run->states[i] == D_HELD) {
			held[i] = hmmk_hold(ctx, p, 1);
		} else {
#ifdef CONFIG_DEVICE_PRIVATE
			struct folio *folio;
			struct page *page;

			mmap_read_lock(ctx->mm);
			page = make_device_exclusive(ctx->mm, p, ctx, &folio);
			mmap_read_unlock(ctx->mm);
			KUNIT_ASSERT_FALSE(test, IS_ERR(page));
			folio_unlock(folio);
			folio_put(folio);
#endif
		}
		/* Verify the fixture made the entry it claims */
		KUNIT_ASSERT_EQ_MSG(test, hmmk_pte(ctx, p),
				    run->states[i] == D_HELD ?
				    HMMK_PTE_MIGRATION : HMMK_PTE_OTHER,
				    "page %lu", i);
	}
}

/*
 * Each run against the reference, as hmm_diff_random_requests(): a fault
 * run the walk extends over an entry it must not fault, or ends before one
 * it must, shows as a page faulted, reported or prepared otherwise.
 */
static void hmm_diff_fault_runs(struct kunit *test)
{
	const struct hmm_diff_run *run = test->param_value;
	struct hmmk_held *held_a[D_RUN], *held_b[D_RUN];
	struct hmmk *ctx = test->priv;
	const char *what[D_RUN];
	unsigned long a, b, i;

	if (run->device)
		HMMK_SKIP_UNLESS(test, IS_ENABLED(CONFIG_DEVICE_PRIVATE),
				 "CONFIG_DEVICE_PRIVATE");
	if (IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		KUNIT_ASSERT_EQ(test, hmmk_dev_init(ctx), 0);
	for (i = 0; i < D_RUN; i++)
		what[i] = hmm_diff_run_name(run->states[i]);
	a = hmmk_map_anon(ctx, D_RUN);
	b = hmmk_map_anon(ctx, D_RUN);
	hmm_diff_run_set(ctx, a, run, held_a);
	hmm_diff_run_set(ctx, b, run, held_b);

	/*
	 * An entry asked to fault is waited for: released while the
	 * reference waits, then while the unified walk does
	 */
	for (i = 0; i < D_RUN; i++) {
		if (!held_a[i] || !(run->reqs[i] & HMM_PFN_REQ_FAULT))
			continue;
		hmmk_release_after(held_a[i], 50);
		hmmk_release_after(held_b[i], 400);
	}
	hmm_diff_requests(ctx, a, b, run->reqs, what, D_RUN);
	for (i = 0; i < D_RUN; i++) {
		if (held_a[i])
			hmmk_release_wait(held_a[i]);
		if (held_b[i])
			hmmk_release_wait(held_b[i]);
	}
	hmmk_expect_unleaked(ctx, b, D_RUN);
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, a, D_RUN);
	hmmk_unmap(ctx, b, D_RUN);
}

static struct kunit_case hmm_diff_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_diff_random_states, hmm_diff_seeds),
	HMMK_CASE_PARAMS(hmm_diff_random_requests, hmm_diff_seeds),
	HMMK_CASE_PARAMS(hmm_diff_fault_runs, hmm_diff_runs),
	{}
};

static struct kunit_suite hmm_diff_test_suite = {
	.name = "hmm_diff",
	.init = hmmk_suite_init,
	.test_cases = hmm_diff_test_cases,
};

kunit_test_suite(hmm_diff_test_suite);
