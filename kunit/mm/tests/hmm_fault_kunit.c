// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for hmm_range_fault() without HMM_PFN_REQ_MIGRATE: what every
 * existing caller sees must not change.
 */
#include <linux/mman.h>

#include "hmm_kunit.h"

#define NPAGES	8

/* The flags a test compares: not the pfn, not the order */
#define HMMK_FLAGS	(HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR | \
			 HMM_PFN_MIGRATE | HMM_PFN_COMPOUND)

static void hmm_fault_present_pfns(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmm_range range;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES, HMM_PFN_REQ_FAULT);
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);

	for (i = 0; i < NPAGES; i++) {
		unsigned long a = addr + i * PAGE_SIZE;

		KUNIT_EXPECT_EQ(test, range.hmm_pfns[i] & HMMK_FLAGS,
				HMM_PFN_VALID | HMM_PFN_WRITE);
		KUNIT_EXPECT_PTR_EQ(test, hmm_pfn_to_page(range.hmm_pfns[i]),
				    hmmk_page(ctx, a));
		KUNIT_EXPECT_EQ(test, hmm_pfn_to_map_order(range.hmm_pfns[i]),
				0);
	}
	hmmk_expect_balanced(ctx);
}

/* Kinds of VMA a plain walk may meet */
enum hmmk_vma {
	VMA_ANON,	/* private anonymous, read-write */
	VMA_RDONLY,	/* private anonymous, PROT_READ */
	VMA_NONE,	/* PROT_NONE */
	VMA_PFNMAP,	/* VM_IO | VM_PFNMAP */
	VMA_SHMEM,	/* shared shmem */
	VMA_HOLE,	/* no VMA at all */
};

struct hmm_fault_case {
	const char *desc;
	enum hmmk_vma vma;
	enum hmmk_state state;
	unsigned long req;
	int ret;
	unsigned long flags;	/* HMMK_FLAGS of every output entry */
	enum hmmk_pte pte;	/* what the CPU maps afterwards */
};

static_assert(offsetof(struct hmm_fault_case, desc) == 0);

#define F	HMM_PFN_REQ_FAULT
#define W	HMM_PFN_REQ_WRITE
#define V	HMM_PFN_VALID
#define WR	HMM_PFN_WRITE
#define E	HMM_PFN_ERROR

static const struct hmm_fault_case hmm_fault_cases[] = {
	{ "anon none, snapshot",	VMA_ANON, HMMK_NONE, 0, 0, 0, HMMK_PTE_NONE },
	{ "anon none, read fault",	VMA_ANON, HMMK_NONE, F, 0, V, HMMK_PTE_ZERO },
	{ "anon none, write fault",	VMA_ANON, HMMK_NONE, F | W, 0, V | WR, HMMK_PTE_PRESENT },
	{ "anon zero, snapshot",	VMA_ANON, HMMK_ZERO, 0, 0, V, HMMK_PTE_ZERO },
	{ "anon zero, write fault",	VMA_ANON, HMMK_ZERO, F | W, 0, V | WR, HMMK_PTE_PRESENT },
	{ "anon written, snapshot",	VMA_ANON, HMMK_ANON, 0, 0, V | WR, HMMK_PTE_PRESENT },
	{ "anon freed, snapshot",	VMA_ANON, HMMK_FREED, 0, 0, 0, HMMK_PTE_NONE },
	{ "anon freed, read fault",	VMA_ANON, HMMK_FREED, F, 0, V, HMMK_PTE_ZERO },
	{ "anon lazyfree, snapshot",	VMA_ANON, HMMK_LAZYFREE, 0, 0, V | WR, HMMK_PTE_PRESENT },
	{ "rdonly zero, read fault",	VMA_RDONLY, HMMK_ZERO, F, 0, V, HMMK_PTE_ZERO },
	{ "rdonly, write fault",	VMA_RDONLY, HMMK_ZERO, F | W, -EPERM, 0, HMMK_PTE_ZERO },
	{ "prot_none, snapshot",	VMA_NONE, HMMK_NONE, 0, 0, E, HMMK_PTE_NONE },
	{ "prot_none, read fault",	VMA_NONE, HMMK_NONE, F, -EFAULT, 0, HMMK_PTE_NONE },
	{ "pfnmap, snapshot",		VMA_PFNMAP, HMMK_NONE, 0, 0, E, HMMK_PTE_NONE },
	{ "pfnmap, read fault",		VMA_PFNMAP, HMMK_NONE, F, -EFAULT, 0, HMMK_PTE_NONE },
	{ "shmem none, read fault",	VMA_SHMEM, HMMK_NONE, F, 0, V | WR, HMMK_PTE_PRESENT },
	{ "shmem written, snapshot",	VMA_SHMEM, HMMK_ANON, 0, 0, V | WR, HMMK_PTE_PRESENT },
	{ "hole, snapshot",		VMA_HOLE, HMMK_NONE, 0, 0, E, HMMK_PTE_NONE },
	{ "hole, read fault",		VMA_HOLE, HMMK_NONE, F, -EFAULT, 0, HMMK_PTE_NONE },
};

static int hmm_fault_cases_init(struct kunit *test)
{
	kunit_register_params_array(test, hmm_fault_cases,
				    ARRAY_SIZE(hmm_fault_cases), hmmk_desc);
	return 0;
}

static unsigned long hmmk_map_kind(struct hmmk *ctx, enum hmmk_vma vma)
{
	unsigned long addr;

	switch (vma) {
	case VMA_SHMEM:
		return hmmk_map_shmem(ctx, NPAGES, true);
	case VMA_PFNMAP:
		return hmmk_map_pfnmap(ctx, NPAGES);
	default:
		break;
	}
	addr = hmmk_map_anon(ctx, NPAGES);
	if (vma == VMA_HOLE)
		hmmk_unmap(ctx, addr, NPAGES);
	return addr;
}

/*
 * Every state and VMA kind, with and without faulting: the outputs,
 * return codes and page tables hmm_range_fault() always gave.
 */
static void hmm_fault_plain(struct kunit *test)
{
	const struct hmm_fault_case *c = test->param_value;
	struct hmmk *ctx = test->priv;
	struct hmm_range range;
	unsigned long addr, i;
	int ret;

	addr = hmmk_map_kind(ctx, c->vma);
	if (c->vma != VMA_PFNMAP && c->vma != VMA_HOLE) {
		for (i = 0; i < NPAGES; i++)
			hmmk_set_state(ctx, addr + i * PAGE_SIZE, c->state);
	}
	if (c->vma == VMA_RDONLY)
		hmmk_map_fixed(ctx, addr, NPAGES, PROT_READ);
	if (c->vma == VMA_RDONLY && c->state == HMMK_ZERO)
		hmmk_read(ctx, addr, NPAGES);
	if (c->vma == VMA_NONE)
		hmmk_map_fixed(ctx, addr, NPAGES, PROT_NONE);

	hmmk_range_init(ctx, &range, addr, NPAGES, c->req);
	ret = hmmk_fault(ctx, &range);
	HMMK_EXPECT_RET(test, ret, c->ret);
	for (i = 0; !ret && i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    c->flags, "page %lu", i);
	for (i = 0; c->vma != VMA_PFNMAP && c->vma != VMA_HOLE && i < NPAGES;
	     i++)
		KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
				    c->pte, "page %lu", i);
	hmmk_expect_balanced(ctx);
}

/*
 * Per-pfn requests. hmm_range_fault() faults from the first page asked for
 * to the end of its PMD (hmm_vma_fault() walks [addr, end)), with the fault
 * flags of the whole range: pages not asked for are write faulted too. Pin
 * that down.
 */
static void hmm_fault_per_pfn(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmm_range range;
	unsigned long addr, i;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	for (i = 0; i < NPAGES; i += 2)
		range.hmm_pfns[i] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);

	for (i = 0; i < NPAGES; i++) {
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE, "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
				    HMMK_PTE_PRESENT, "page %lu", i);
	}

	/* Nothing asked for: nothing faulted */
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES, 0);
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES, HMMK_PTE_NONE),
			NPAGES);

	/*
	 * A mask of every bit, as a caller may pass, and every flag bit set
	 * in the inputs (as when outputs are passed back): the walk as it was,
	 * whatever the bits it did not know (before: -EINVAL, the bit of
	 * HMM_PFN_REQ_MIGRATE asked for the migrate walk).
	 */
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES, 0);
	range.pfn_flags_mask = ~0UL;
	for (i = 0; i < NPAGES; i += 2)
		range.hmm_pfns[i] = HMM_PFN_FLAGS;
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	/* As above: the hole is faulted in whole */
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    HMM_PFN_VALID | HMM_PFN_WRITE, "page %lu", i);
}

/* A range over two VMAs of different protections and the hole after them */
static void hmm_fault_multi_vma(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	unsigned long addr, half = NPAGES / 2, i;
	struct hmm_range range;

	addr = hmmk_map_anon(ctx, NPAGES + 2);
	hmmk_unmap(ctx, addr + NPAGES * PAGE_SIZE, 2);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_map_fixed(ctx, addr + half * PAGE_SIZE, half, PROT_READ);
	hmmk_read(ctx, addr + half * PAGE_SIZE, half);

	hmmk_range_init(ctx, &range, addr, NPAGES + 2, 0);
	HMMK_ASSERT_RET(test, hmmk_fault(ctx, &range), 0);
	for (i = 0; i < NPAGES + 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, range.hmm_pfns[i] & HMMK_FLAGS,
				    i < half ? HMM_PFN_VALID | HMM_PFN_WRITE :
				    i < NPAGES ? HMM_PFN_VALID : HMM_PFN_ERROR,
				    "page %lu", i);

	/* Faulting the hole fails; writing the read-only half too */
	hmmk_range_init(ctx, &range, addr, NPAGES + 2, HMM_PFN_REQ_FAULT);
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &range), -EFAULT);
	hmmk_range_init(ctx, &range, addr, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &range), -EPERM);
	hmmk_expect_balanced(ctx);
}

/* A changed notifier sequence is -EBUSY; the retry then succeeds */
static void hmm_fault_ebusy(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmm_range range;
	unsigned long addr;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES, HMM_PFN_REQ_FAULT);
	range.notifier_seq = mmu_interval_read_begin(&ctx->mni);
	hmmk_dontneed(ctx, addr, 1);	/* invalidates the range */

	mmap_read_lock(ctx->mm);
	HMMK_EXPECT_RET(test, hmm_range_fault(&range), -EBUSY);
	mmap_read_unlock(ctx->mm);
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &range), 0);
	KUNIT_EXPECT_EQ(test, range.hmm_pfns[0] & HMMK_FLAGS, HMM_PFN_VALID);
}

/*
 * Without CONFIG_DEVICE_MIGRATION a migrate request (range->migrate; the
 * flag is 0 there) fails, it is not ignored
 */
static void hmm_fault_migrate_unsupported(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmm_range range;
	unsigned long addr;

	HMMK_SKIP_UNLESS(test, !IS_ENABLED(CONFIG_DEVICE_MIGRATION),
			 "a kernel without CONFIG_DEVICE_MIGRATION");
	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_write(ctx, addr, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES,
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_MIGRATE);
	/*
	 * Never read: struct migrate_vma is not even defined without
	 * CONFIG_MIGRATION, any non-NULL pointer asks
	 */
	range.migrate = kunit_kzalloc(test, sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, range.migrate);
	HMMK_EXPECT_RET(test, hmmk_fault(ctx, &range), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, hmmk_count_pte(ctx, addr, NPAGES,
					     HMMK_PTE_PRESENT), NPAGES);
}

/*
 * The hmm pfn layout existing callers decode. Without device migration it is
 * the layout from before HMM_PFN_MIGRATE (order field at BITS_PER_LONG - 11,
 * so 32-bit, where device migration cannot be built, keeps every pfn bit);
 * with it, the two new flags overlap nothing. The order and pfn a PMD leaf
 * reports decode back.
 */
static void hmm_fault_pfn_layout(struct kunit *test)
{
	const unsigned long order = 0x1FUL << HMM_PFN_ORDER_SHIFT;
	const unsigned long old = HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR |
				  HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA |
				  HMM_PFN_P2PDMA_BUS;
	const unsigned long new = HMM_PFN_MIGRATE | HMM_PFN_COMPOUND;
	unsigned long pfn = (1UL << HMM_PFN_ORDER_SHIFT) - 1;
	unsigned long hmm_pfn;

	/* Every build checks it: a 32-bit kernel has no device migration */
	BUILD_BUG_ON(!IS_ENABLED(CONFIG_DEVICE_MIGRATION) &&
		     BITS_PER_LONG - HMM_PFN_ORDER_SHIFT != 11);
	if (IS_ENABLED(CONFIG_DEVICE_MIGRATION)) {
		KUNIT_EXPECT_EQ(test, hweight_long(new), 2);
		KUNIT_EXPECT_EQ(test, new & (old | order), 0);
		KUNIT_EXPECT_EQ(test, new & ~HMM_PFN_FLAGS, 0);
	} else {
		KUNIT_EXPECT_EQ(test, HMM_PFN_ORDER_SHIFT, BITS_PER_LONG - 11);
		KUNIT_EXPECT_EQ(test, new, 0);
	}
	KUNIT_EXPECT_EQ(test, hweight_long(old), 6);
	KUNIT_EXPECT_EQ(test, old & order, 0);
	KUNIT_EXPECT_EQ(test, (old | order) & ~HMM_PFN_FLAGS, 0);

	/* hmm_pfn_to_map_order() reads the field the walk writes */
	hmm_pfn = pfn | HMM_PFN_VALID | ((unsigned long)HMMK_PMD_ORDER <<
					 HMM_PFN_ORDER_SHIFT);
	KUNIT_EXPECT_EQ(test, hmm_pfn_to_map_order(hmm_pfn), HMMK_PMD_ORDER);
}

/* A range without notifier nor migration is refused, not dereferenced */
static void hmm_fault_null_notifier(struct kunit *test)
{
	struct hmmk *ctx = test->priv;
	struct hmm_range range;
	unsigned long addr;

	addr = hmmk_map_anon(ctx, NPAGES);
	hmmk_range_init(ctx, &range, addr, NPAGES, HMM_PFN_REQ_FAULT);
	range.notifier = NULL;
	mmap_read_lock(ctx->mm);
	HMMK_EXPECT_RET(test, hmm_range_fault(&range), -EINVAL);
	mmap_read_unlock(ctx->mm);
}

static struct kunit_case hmm_fault_test_cases[] = {
	KUNIT_CASE(hmm_fault_present_pfns),
	HMMK_CASE_PARAMS(hmm_fault_plain, hmm_fault_cases),
	KUNIT_CASE(hmm_fault_per_pfn),
	KUNIT_CASE(hmm_fault_multi_vma),
	KUNIT_CASE(hmm_fault_ebusy),
	KUNIT_CASE(hmm_fault_migrate_unsupported),
	KUNIT_CASE(hmm_fault_pfn_layout),
	/* Last: an implementation that dereferences NULL crashes here */
	KUNIT_CASE(hmm_fault_null_notifier),
	{}
};

static struct kunit_suite hmm_fault_test_suite = {
	.name = "hmm_fault",
	.init = hmmk_suite_init,
	.test_cases = hmm_fault_test_cases,
};

kunit_test_suite(hmm_fault_test_suite);
