// SPDX-License-Identifier: GPL-2.0
/*
 * Fixtures that need CONFIG_DEVICE_MIGRATION: migration entries held by the
 * test and device private memory. See hmm_kunit.h.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/kthread.h>
#include <linux/memremap.h>
#include <linux/slab.h>

#include "hmm_kunit.h"

void hmmk_migrate_init(struct hmmk *ctx, struct migrate_vma *migrate,
		       unsigned long addr, unsigned long npages,
		       unsigned long flags)
{
	*migrate = (struct migrate_vma) {
		.start = addr,
		.end = addr + (npages << PAGE_SHIFT),
		.pgmap_owner = hmmk_owner(ctx),
		.flags = flags,
	};
	migrate->src = kunit_kcalloc(ctx->test, npages, sizeof(unsigned long),
				     GFP_KERNEL);
	migrate->dst = kunit_kcalloc(ctx->test, npages, sizeof(unsigned long),
				     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(ctx->test, migrate->src);
	KUNIT_ASSERT_NOT_NULL(ctx->test, migrate->dst);
}

/* Put every prepared page back: finalize with no destination page */
void hmmk_restore(struct migrate_vma *migrate)
{
	memset(migrate->dst, 0, migrate->npages * sizeof(*migrate->dst));
	migrate_vma_pages(migrate);
	migrate_vma_finalize(migrate);
}

/* Migration entries held by the test */

struct hmmk_held {
	struct hmmk *ctx;
	struct migrate_vma migrate;
	struct completion done;
	unsigned int ms;
	bool started;
	bool released;
};

/*
 * Once a thread waits for the folio lock of the first held page (the walk,
 * on its migration entry), record whether ctx->probe_page's folio is locked.
 */
static void hmmk_probe_when_waited(struct hmmk_held *held)
{
	struct folio *folio;
	int ms;

	folio = page_folio(migrate_pfn_to_page(held->migrate.src[0]));
	for (ms = 0; ms < 2000 && !folio_test_waiters(folio); ms += 20)
		msleep(20);
	WRITE_ONCE(held->ctx->probe_locked,
		   folio_test_locked(page_folio(held->ctx->probe_page)));
}

static int hmmk_release_thread(void *data)
{
	struct hmmk_held *held = data;

	msleep(held->ms);
	if (held->ctx->probe_page)
		hmmk_probe_when_waited(held);
	WRITE_ONCE(held->released, true);
	migrate_vma_finalize(&held->migrate);
	complete(&held->done);
	return 0;
}

static void hmmk_held_cleanup(void *data)
{
	struct hmmk_held *held = data;

	/* The helper uses held: let it finish before held is freed */
	if (held->started)
		wait_for_completion(&held->done);
}

static struct hmmk_held *hmmk_hold_flags(struct hmmk *ctx, unsigned long addr,
					 unsigned long npages,
					 unsigned long flags,
					 unsigned long cpages)
{
	struct kunit *test = ctx->test;
	struct hmmk_held *held;
	int ret;

	held = kunit_kzalloc(test, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	held->ctx = ctx;
	init_completion(&held->done);
	hmmk_migrate_init(ctx, &held->migrate, addr, npages, flags);
	/* Not our owner: the driver notifier must see this invalidation */
	held->migrate.pgmap_owner = held;
	mmap_read_lock(ctx->mm);
	held->migrate.vma = vma_lookup(ctx->mm, addr);
	ret = migrate_vma_setup(&held->migrate);
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, held->migrate.cpages, cpages);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmmk_held_cleanup,
							held), 0);
	return held;
}

/* Replace the pages at @addr with migration entries the test holds */
struct hmmk_held *hmmk_hold(struct hmmk *ctx, unsigned long addr,
			    unsigned long npages)
{
	return hmmk_hold_flags(ctx, addr, npages, MIGRATE_VMA_SELECT_SYSTEM,
			       npages);
}

/* Replace the THP at @addr with a PMD migration entry the test holds */
struct hmmk_held *hmmk_hold_thp(struct hmmk *ctx, unsigned long addr)
{
	return hmmk_hold_flags(ctx, addr, HMMK_PMD_PAGES,
			       MIGRATE_VMA_SELECT_SYSTEM |
			       MIGRATE_VMA_SELECT_COMPOUND, 1);
}

/* Finalize from a helper thread, @ms milliseconds from now */
void hmmk_release_after(struct hmmk_held *held, unsigned int ms)
{
	struct task_struct *task;

	held->ms = ms;
	task = kthread_run(hmmk_release_thread, held, "hmmk-release");
	KUNIT_ASSERT_FALSE(held->ctx->test, IS_ERR(task));
	held->started = true;
}

void hmmk_release_wait(struct hmmk_held *held)
{
	if (held->started)
		wait_for_completion(&held->done);
	else
		migrate_vma_finalize(&held->migrate);
	held->started = false;
}

bool hmmk_released(struct hmmk_held *held)
{
	return READ_ONCE(held->released);
}

#ifdef CONFIG_DEVICE_PRIVATE
/*
 * Device private memory: a pagemap whose pages stand for device memory.
 * The data of device page i lives in the system page backing[i].
 */
#define HMMK_DEV_SIZE	SZ_64M

struct hmmk_dev {
	struct hmmk *ctx;
	struct dev_pagemap pgmap;
	struct resource *res;
	unsigned long pfn_first;
	unsigned long npages;
	spinlock_t lock;		/* protects used */
	unsigned long *used;
	struct page **backing;
	bool mapped;
};

static struct hmmk_dev *hmmk_dev_of(struct page *page)
{
	return container_of(page_pgmap(page), struct hmmk_dev, pgmap);
}

struct page *hmmk_dev_backing(struct page *page)
{
	struct hmmk_dev *dev = hmmk_dev_of(page);

	return dev->backing[page_to_pfn(page) - dev->pfn_first];
}

bool hmmk_dev_page(struct hmmk_dev *dev, struct page *page)
{
	return page && is_device_private_page(page) &&
	       page_pgmap(page) == &dev->pgmap;
}

/* A device folio of @order, locked, with zeroed backing pages */
static struct page *hmmk_dev_alloc(struct hmmk_dev *dev, unsigned int order)
{
	unsigned long nr = 1UL << order, idx, i;

	spin_lock(&dev->lock);
	idx = bitmap_find_next_zero_area(dev->used, dev->npages, 0, nr,
					 nr - 1);
	if (idx >= dev->npages) {
		spin_unlock(&dev->lock);
		return NULL;
	}
	bitmap_set(dev->used, idx, nr);
	spin_unlock(&dev->lock);

	for (i = idx; i < idx + nr; i++) {
		if (!dev->backing[i])
			dev->backing[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!dev->backing[i])
			return NULL;
	}
	zone_device_folio_init(page_folio(pfn_to_page(dev->pfn_first + idx)),
			       &dev->pgmap, order);
	return pfn_to_page(dev->pfn_first + idx);
}

static void hmmk_dev_free(struct folio *folio)
{
	struct hmmk_dev *dev = hmmk_dev_of(&folio->page);

	spin_lock(&dev->lock);
	bitmap_clear(dev->used, folio_pfn(folio) - dev->pfn_first,
		     folio_nr_pages(folio));
	spin_unlock(&dev->lock);
}

/* The CPU touched one of our pages: migrate that page back to RAM */
/*
 * A CPU fault on one of our pages: migrate it back to system memory, with
 * the pages around it when the test asks (ctx->to_ram_npages), the way a
 * driver does, through migrate_vma_setup() with fault_page set.
 */
static vm_fault_t hmmk_dev_migrate_to_ram(struct vm_fault *vmf)
{
	struct hmmk_dev *dev = hmmk_dev_of(vmf->page);
	struct hmmk *ctx = dev->ctx;
	unsigned long npages = clamp(ctx->to_ram_npages, 1UL, HMMK_TO_RAM_MAX);
	unsigned long src[HMMK_TO_RAM_MAX] = {}, dst[HMMK_TO_RAM_MAX] = {};
	unsigned long start = ALIGN_DOWN(vmf->address, npages << PAGE_SHIFT);
	struct migrate_vma args = {
		.vma = vmf->vma,
		.src = src,
		.dst = dst,
		.pgmap_owner = dev->pgmap.owner,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE | ctx->to_ram_flags,
		.fault_page = vmf->page,
	};
	unsigned long i, fault_idx;

	ctx->to_ram_calls++;
	if (ctx->to_ram_refuse)
		return 0;
	if (ctx->probe_page)
		WRITE_ONCE(ctx->probe_locked,
			   folio_test_locked(page_folio(ctx->probe_page)));
	start = max(start, vmf->vma->vm_start);
	args.start = start;
	args.end = min(start + (npages << PAGE_SHIFT), vmf->vma->vm_end);
	fault_idx = (vmf->address - start) >> PAGE_SHIFT;
	if (migrate_vma_setup(&args))
		return VM_FAULT_SIGBUS;
	ctx->to_ram_cpages = args.cpages;
	for (i = 0; i < args.npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]), *dpage;

		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		/* Migrated and unlocked by finalize: it must be ours to unlock */
		if (!folio_test_locked(page_folio(spage)))
			ctx->to_ram_unlocked++;
		dpage = alloc_page(GFP_HIGHUSER_MOVABLE);
		if (!dpage)
			continue;
		lock_page(dpage);
		/* With MIGRATE_VMA_SELECT_SYSTEM, system pages come too */
		copy_highpage(dpage, is_device_private_page(spage) ?
				     hmmk_dev_backing(spage) : spage);
		dst[i] = migrate_pfn(page_to_pfn(dpage));
	}
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	return dst[fault_idx] ? 0 : VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops hmmk_dev_ops = {
	.folio_free = hmmk_dev_free,
	.migrate_to_ram = hmmk_dev_migrate_to_ram,
};

static void hmmk_dev_cleanup(void *data)
{
	struct hmmk_dev *dev = data;
	unsigned long i;

	/* memunmap_pages() first: it waits for every device page to be freed */
	if (dev->mapped)
		memunmap_pages(&dev->pgmap);
	release_mem_region(dev->res->start, resource_size(dev->res));
	for (i = 0; i < dev->npages; i++)
		if (dev->backing[i])
			__free_page(dev->backing[i]);
	kvfree(dev->backing);
	bitmap_free(dev->used);
}

static struct hmmk_dev *hmmk_dev_create(struct hmmk *ctx, void *owner)
{
	struct kunit *test = ctx->test;
	struct hmmk_dev *dev;
	void *ptr;

	dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	dev->ctx = ctx;
	spin_lock_init(&dev->lock);
	dev->res = request_free_mem_region(&iomem_resource, HMMK_DEV_SIZE,
					   "hmmk");
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(dev->res));
	dev->npages = HMMK_DEV_SIZE >> PAGE_SHIFT;
	dev->pfn_first = dev->res->start >> PAGE_SHIFT;
	dev->used = bitmap_zalloc(dev->npages, GFP_KERNEL);
	dev->backing = kvcalloc(dev->npages, sizeof(*dev->backing),
				GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hmmk_dev_cleanup,
							dev), 0);
	KUNIT_ASSERT_NOT_NULL(test, dev->used);
	KUNIT_ASSERT_NOT_NULL(test, dev->backing);

	dev->pgmap.type = MEMORY_DEVICE_PRIVATE;
	dev->pgmap.range.start = dev->res->start;
	dev->pgmap.range.end = dev->res->end;
	dev->pgmap.nr_range = 1;
	dev->pgmap.ops = &hmmk_dev_ops;
	dev->pgmap.owner = owner;
	ptr = memremap_pages(&dev->pgmap, numa_node_id());
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(ptr));
	dev->mapped = true;
	return dev;
}

/* How many of @dev's pages are allocated: freed ones go back at once */
unsigned long hmmk_dev_pages_used(struct hmmk_dev *dev)
{
	unsigned long used;

	spin_lock(&dev->lock);
	used = bitmap_weight(dev->used, dev->npages);
	spin_unlock(&dev->lock);
	return used;
}

int hmmk_dev_init(struct hmmk *ctx)
{
	ctx->dev = hmmk_dev_create(ctx, hmmk_owner(ctx));
	ctx->foreign = hmmk_dev_create(ctx, &ctx->foreign);
	return 0;
}

/*
 * Migrate [addr, addr + npages pages) to @dev with the real migrate_vma_*()
 * calls, as a driver does; a PMD as one device folio if @compound.
 */
void hmmk_to_device(struct hmmk *ctx, struct hmmk_dev *dev,
		    unsigned long addr, unsigned long npages, bool compound)
{
	struct kunit *test = ctx->test;
	struct migrate_vma args;
	unsigned long i, j;
	int ret;

	KUNIT_ASSERT_NOT_NULL_MSG(test, dev, "hmmk_dev_init() not called");
	hmmk_migrate_init(ctx, &args, addr, npages, MIGRATE_VMA_SELECT_SYSTEM);
	args.pgmap_owner = dev->pgmap.owner;
	if (compound)
		args.flags |= MIGRATE_VMA_SELECT_COMPOUND;

	mmap_read_lock(ctx->mm);
	args.vma = vma_lookup(ctx->mm, addr);
	ret = migrate_vma_setup(&args);
	if (ret)
		goto out;
	for (i = 0; i < npages; i += j) {
		bool large = args.src[i] & MIGRATE_PFN_COMPOUND;
		struct page *spage = migrate_pfn_to_page(args.src[i]);
		struct page *dpage;

		j = 1;
		if (!(args.src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		dpage = hmmk_dev_alloc(dev, large ? HMMK_PMD_ORDER : 0);
		if (!dpage)
			continue;
		args.dst[i] = migrate_pfn(page_to_pfn(dpage)) |
			      (large ? MIGRATE_PFN_COMPOUND : 0);
		for (j = 0; j < (large ? HMMK_PMD_PAGES : 1); j++)
			if (spage)
				copy_highpage(hmmk_dev_backing(dpage + j), spage + j);
	}
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
out:
	mmap_read_unlock(ctx->mm);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (i = 0; i < npages; i++)
		KUNIT_ASSERT_EQ_MSG(test, hmmk_pte(ctx, addr + i * PAGE_SIZE),
				    HMMK_PTE_DEVICE,
				    "page %lu not migrated to the device", i);
}
#else
int hmmk_dev_init(struct hmmk *ctx)
{
	return -EOPNOTSUPP;
}

void hmmk_to_device(struct hmmk *ctx, struct hmmk_dev *dev,
		    unsigned long addr, unsigned long npages, bool compound)
{
	kunit_skip(ctx->test, "needs CONFIG_DEVICE_PRIVATE");
}

bool hmmk_dev_page(struct hmmk_dev *dev, struct page *page)
{
	return false;
}

unsigned long hmmk_dev_pages_used(struct hmmk_dev *dev)
{
	return 0;
}

struct page *hmmk_dev_backing(struct page *page)
{
	return page;
}
#endif /* CONFIG_DEVICE_PRIVATE */
