// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the migrate-prepare walk racing with the rest of mm: a
 * second kthread on the test mm (kthread_use_mm()) zaps, remaps or migrates
 * pages of the range, or splits and collapses its THP, while the test
 * thread prepares it again and again,
 * through both entry points, for a fixed number of walks with a fixed seed.
 * Whatever each walk returns, it must leave nothing behind: no migration
 * entry, no locked folio, no reference, no open invalidation, no lost data.
 * On an SMP kernel with two CPUs or more both threads really run at once;
 * lockdep and KASAN see what they do.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/prandom.h>
#include <linux/sched/mm.h>
#include <linux/swap.h>

#include "hmm_kunit.h"

#define RACE_PAGES	64
#define RACE_WALKS	100
/*
 * The remap racer splits the range in VMAs most of the time (2 to 10 of 100
 * walks succeed under KASAN): walk on, up to ten times as often, until that
 * many walks succeeded, so the success path is always raced too.
 */
#define RACE_MIN_OK	10

enum hmmk_racer_kind {
	RACER_ZAP,	/* MADV_DONTNEED a page, then write it again */
	RACER_REMAP,	/* munmap four pages, map them again, write them */
	RACER_MIGRATE,	/* another migration: entries held for a moment */
	RACER_SPLIT,	/* as RACER_ZAP, and MADV_COLLAPSE every fourth step */
	RACER_NUMA,	/* NUMA hinting PTEs on four pages, as task_numa_work() */
};

struct hmm_race_case {
	const char *desc;
	enum hmmk_racer_kind kind;
	bool thp;	/* the range starts as one THP where THP is built */
};

static_assert(offsetof(struct hmm_race_case, desc) == 0);

static const struct hmm_race_case hmm_race_cases[] = {
	{ "zap", RACER_ZAP },
	{ "zap THP", RACER_ZAP, true },
	{ "remap", RACER_REMAP },
	{ "migrate", RACER_MIGRATE },
	{ "split and collapse THP", RACER_SPLIT, true },
	{ "NUMA hinting", RACER_NUMA },
};

static int hmm_race_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_race_cases,
				    ARRAY_SIZE(hmm_race_cases), hmmk_desc);
	return 0;
}

struct hmmk_racer {
	struct hmmk *ctx;
	enum hmmk_racer_kind kind;
	unsigned long addr;
	struct rnd_state rnd;
	bool stop;
	unsigned long ops;
	unsigned long collapsed;	/* MADV_COLLAPSE made the THP again */
	unsigned long errors;	/* a step of the racer that failed */
	struct completion done;
};

/* The racer cannot assert: it counts what went wrong for the test body */
static void hmmk_racer_write(struct hmmk_racer *r, unsigned long addr,
			     unsigned long npages)
{
	for (; npages--; addr += PAGE_SIZE)
		if (put_user(hmmk_tag(r->ctx, addr), (u64 __user *)addr))
			r->errors++;
}

static void hmmk_racer_migrate(struct hmmk_racer *r, unsigned long addr)
{
	unsigned long src = 0, dst = 0;
	struct migrate_vma m = {
		.start = addr,
		.end = addr + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = r,	/* not the walk's owner */
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};

	mmap_read_lock(r->ctx->mm);
	m.vma = vma_lookup(r->ctx->mm, addr);
	if (m.vma && !migrate_vma_setup(&m)) {
		/* Let the walk meet the entry, then put the page back */
		mmap_read_unlock(r->ctx->mm);
		cond_resched();
		mmap_read_lock(r->ctx->mm);
		migrate_vma_pages(&m);
		migrate_vma_finalize(&m);
	}
	mmap_read_unlock(r->ctx->mm);
}

static int hmmk_racer_fn(void *data)
{
	struct hmmk_racer *r = data;
	struct mm_struct *mm = r->ctx->mm;
	unsigned long addr;

	kthread_use_mm(mm);
	while (!READ_ONCE(r->stop)) {
		addr = r->addr + (prandom_u32_state(&r->rnd) % RACE_PAGES) *
		       PAGE_SIZE;
		switch (r->kind) {
		case RACER_ZAP:
			if (do_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED))
				r->errors++;
			hmmk_racer_write(r, addr, 1);
			break;
		case RACER_REMAP:
			addr = ALIGN_DOWN(addr, 4 * PAGE_SIZE);
			if (vm_munmap(addr, 4 * PAGE_SIZE) ||
			    vm_mmap(NULL, addr, 4 * PAGE_SIZE,
				    PROT_READ | PROT_WRITE,
				    MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED,
				    0) != addr)
				r->errors++;
			hmmk_racer_write(r, addr, 4);
			break;
		case RACER_MIGRATE:
			hmmk_racer_migrate(r, addr);
			break;
		case RACER_SPLIT:
			/*
			 * Zapping a page splits the PMD; collapsing maps the
			 * THP again. It fails while the walk holds pages.
			 */
			if (r->ops % 4 == 3) {
				if (!do_madvise(mm, r->addr, PMD_SIZE,
						MADV_COLLAPSE))
					r->collapsed++;
				break;
			}
			if (do_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED))
				r->errors++;
			hmmk_racer_write(r, addr, 1);
			break;
		case RACER_NUMA:
			/* Under the mmap read lock: really beside the walk */
			addr = ALIGN_DOWN(addr, 4 * PAGE_SIZE);
			hmmk_numa_hint(r->ctx, addr, 4);
			break;
		}
		r->ops++;
		cond_resched();
	}
	kthread_unuse_mm(mm);
	mmput(mm);
	complete(&r->done);
	return 0;
}

static void hmmk_racer_stop(void *data)
{
	struct hmmk_racer *r = data;

	WRITE_ONCE(r->stop, true);
	wait_for_completion(&r->done);
}

/*
 * The walk, again and again, against a racer: each walk may fail (-EBUSY
 * after retries, -EFAULT or -EINVAL while the range is unmapped or split in
 * VMAs), but a success has every page it prepared locked and referenced,
 * and after the last walk the range is as the racer left it.
 */
static void hmm_race_walk(struct kunit *test)
{
	const struct hmm_race_case *c = test->param_value;
	struct hmmk *ctx = test->priv;
	unsigned long addr, i, walks, ok = 0;
	struct task_struct *task;
	struct hmmk_racer *r;

	if (c->kind == RACER_NUMA)
		HMMK_SKIP_UNLESS(test, IS_ENABLED(CONFIG_NUMA_BALANCING),
				 "CONFIG_NUMA_BALANCING");
	if (c->thp) {
		HMMK_SKIP_UNLESS(test, thp_migration_supported(),
				 "THP migration");
		addr = hmmk_map_thp(ctx, 1);
	} else {
		addr = hmmk_map_anon(ctx, RACE_PAGES);
	}
	hmmk_write(ctx, addr, RACE_PAGES);
	if (c->thp)
		KUNIT_ASSERT_TRUE_MSG(test, hmmk_pmd_mapped(ctx, addr),
				      "the range is not one THP to start with");

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->ctx = ctx;
	r->kind = c->kind;
	r->addr = addr;
	prandom_seed_state(&r->rnd, 0x484d4d + c->kind);
	init_completion(&r->done);
	mmget(ctx->mm);		/* the racer's, put when it stops */
	task = kthread_run(hmmk_racer_fn, r, "hmmk-racer");
	if (IS_ERR(task))
		mmput(ctx->mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmmk_racer_stop,
							r), 0);

	for (walks = 0; walks < RACE_WALKS ||
	     (ok < RACE_MIN_OK && walks < 10 * RACE_WALKS); walks++) {
		struct migrate_vma migrate;
		struct hmm_range range;
		bool via_hmm = walks % 2;
		int ret;

		hmmk_migrate_init(ctx, &migrate, addr, RACE_PAGES,
				  MIGRATE_VMA_SELECT_SYSTEM);
		mmap_read_lock(ctx->mm);
		if (via_hmm) {
			hmmk_range_init(ctx, &range, addr, RACE_PAGES,
					HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
			range.migrate = &migrate;
			range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
			ret = hmm_range_fault(&range);
			if (!ret)
				migrate_hmm_range_setup(&range);
		} else {
			migrate.vma = vma_lookup(ctx->mm, addr);
			migrate.flags |= MIGRATE_VMA_FAULT;
			ret = migrate.vma ? migrate_vma_setup(&migrate) :
					    -EFAULT;
		}
		if (ret) {
			mmap_read_unlock(ctx->mm);
			KUNIT_EXPECT_TRUE_MSG(test, ret == -EBUSY ||
					      ret == -EFAULT || ret == -EINVAL,
					      "walk %lu returned %pe", walks,
					      ERR_PTR(ret));
			usleep_range(50, 100);
			continue;
		}
		ok++;
		for (i = 0; i < RACE_PAGES; i++) {
			struct page *page = migrate_pfn_to_page(migrate.src[i]);

			if (page && (migrate.src[i] & MIGRATE_PFN_MIGRATE))
				KUNIT_EXPECT_TRUE_MSG(test,
						      folio_test_locked(page_folio(page)),
						      "walk %lu page %lu prepared unlocked",
						      walks, i);
		}
		hmmk_restore(&migrate);
		mmap_read_unlock(ctx->mm);
		/* Let the racer run between walks too, on one CPU (UML) */
		usleep_range(50, 100);
	}
	hmmk_racer_stop(r);
	kunit_remove_action(test, hmmk_racer_stop, r);
	KUNIT_EXPECT_EQ(test, r->errors, 0);
	KUNIT_EXPECT_GT(test, r->ops, 0);
	KUNIT_EXPECT_GT_MSG(test, ok, 0, "no walk succeeded in %lu", walks);
	if (c->kind == RACER_SPLIT)
		KUNIT_EXPECT_GT_MSG(test, r->collapsed, 0,
				    "the THP was never collapsed again");
	kunit_info(test, "%lu of %lu walks prepared, %lu racer steps, %lu collapses",
		   ok, walks, r->ops, r->collapsed);

	/* Nothing left behind: entries, locks, references, data */
	lru_add_drain_all();
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, RACE_PAGES,
					     HMMK_PTE_MIGRATION), 0);
	for (i = 0; i < RACE_PAGES; i++) {
		struct page *page = hmmk_page(ctx, addr + i * PAGE_SIZE);
		struct folio *folio;

		if (!page)
			continue;
		folio = page_folio(page);
		KUNIT_EXPECT_FALSE_MSG(test, folio_test_locked(folio),
				       "page %lu left locked", i);
		if (!folio_test_large(folio))
			KUNIT_EXPECT_EQ_MSG(test, folio_ref_count(folio),
					    folio_mapcount(folio),
					    "page %lu: a reference leaked", i);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_peek(ctx, addr + i * PAGE_SIZE),
				    hmmk_tag(ctx, addr + i * PAGE_SIZE),
				    "page %lu data", i);
	}
	hmmk_expect_balanced(ctx);
	hmmk_unmap(ctx, addr, RACE_PAGES);
}

static struct kunit_case hmm_race_test_cases[] = {
	HMMK_CASE_PARAMS(hmm_race_walk, hmm_race_cases),
	{}
};

static struct kunit_suite hmm_race_test_suite = {
	.name = "hmm_race",
	.init = hmmk_suite_init,
	.test_cases = hmm_race_test_cases,
};

kunit_test_suite(hmm_race_test_suite);
