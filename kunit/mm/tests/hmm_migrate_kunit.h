/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the hmm_migrate* suites share: the two entry points of the unified
 * walk and how a case prepares a range through either, and checks it.
 */
#ifndef _MM_TESTS_HMM_MIGRATE_KUNIT_H
#define _MM_TESTS_HMM_MIGRATE_KUNIT_H

#include "hmm_kunit.h"

#define NPAGES	8

/* The two entry points of the unified walk */
enum hmmk_via {
	VIA_HMM,	/* hmm_range_fault() + migrate_hmm_range_setup() */
	VIA_VMA,	/* migrate_vma_setup() with MIGRATE_VMA_FAULT */
	VIA_PLAIN,	/* migrate_vma_setup(), no fault: its own walk */
};

struct hmmk_prep {
	enum hmmk_via via;
	struct hmm_range range;
	struct migrate_vma migrate;
};

/* The flags a test compares in an hmm pfn: not the pfn, not the order */
#define HMMK_FLAGS	(HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR | \
			 HMM_PFN_MIGRATE | HMM_PFN_COMPOUND)

int hmmk_vias_init(struct kunit *test);
int hmmk_vias_plain_init(struct kunit *test);

const char *hmmk_via_name(enum hmmk_via via);
void hmmk_expect_data(struct hmmk *ctx, unsigned long addr,
		      unsigned long npages);
void hmmk_setup_restore(struct hmmk *ctx, struct hmm_range *range,
			struct migrate_vma *migrate);
void hmmk_expect_walk_prepared(struct hmmk *ctx,
			       struct hmm_range *range,
			       struct migrate_vma *migrate);
int hmmk_walk_once(struct hmmk *ctx, struct hmm_range *range,
		   struct migrate_vma *migrate);
int hmmk_prepare(struct hmmk *ctx, struct hmmk_prep *p,
		 enum hmmk_via via, unsigned long addr,
		 unsigned long npages, unsigned long req,
		 unsigned long select);
int hmmk_prepare_as_plain(struct hmmk *ctx, struct hmmk_prep *p,
			  enum hmmk_via via, unsigned long addr,
			  unsigned long npages, unsigned long req,
			  unsigned long select);
void hmmk_prep_restore(struct hmmk *ctx, struct hmmk_prep *p);
void hmmk_expect_no_migrate_out(struct hmmk *ctx, struct hmmk_prep *p);
unsigned long hmmk_src_of(struct page *page, bool write);
void hmmk_expect_prepared(struct hmmk *ctx, struct migrate_vma *m,
			  struct hmmk_snap *snap);
void hmmk_need_thp(struct kunit *test);
void hmmk_need_device(struct hmmk *ctx);
unsigned long hmmk_device_thp(struct hmmk *ctx, bool foreign);
bool hmmk_no_pmd_table(struct hmmk *ctx, unsigned long addr);

#endif
