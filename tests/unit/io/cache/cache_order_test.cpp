// Buffer cache write ordering (barrier epochs, frozen copies, eviction) and request shapes
// (coalesced writes, read-ahead), judged on a device that records every request.
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "io/cache/buffer_cache.hpp"
#include "recording_device.hpp"

using namespace uk;
using namespace uk::io;
using uk::io::test::IoEvent;
using uk::io::test::patterned;
using uk::io::test::RecordingDevice;

namespace {

constexpr std::uint32_t bs = 4096;

std::unique_ptr<BufferCache> make_cache(std::shared_ptr<BlockDevice> dev, std::size_t blocks,
                                        std::uint32_t read_ahead = 0,
                                        std::size_t max_write = std::size_t{1} << 20) {
    return test::make_test_cache(std::move(dev), bs, blocks, read_ahead, max_write);
}

void dirty(BufferCache& cache, std::uint64_t block, std::byte value) {
    auto ref = cache.get(block);
    ASSERT_TRUE(ref) << ref.error().describe();
    auto bytes = ref->mark_dirty();
    std::fill(bytes.begin(), bytes.end(), value);
}

// One write of one block seen by the device: its block and the value it carried.
struct BlockWrite {
    std::uint64_t block;
    std::byte value;
    std::size_t position;  // index of the event
};

std::vector<BlockWrite> block_writes(const std::vector<IoEvent>& events) {
    std::vector<BlockWrite> out;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i].kind != IoEvent::write)
            continue;
        for (std::uint64_t k = 0; k < events[i].size / bs; ++k)
            out.push_back({events[i].offset / bs + k, events[i].data[k * bs], i});
    }
    return out;
}

// True when a flush lies strictly between event positions a and b.
bool flush_between(const std::vector<IoEvent>& events, std::size_t a, std::size_t b) {
    for (std::size_t i = a + 1; i < b; ++i)
        if (events[i].kind == IoEvent::flush)
            return true;
    return false;
}

// Every write carrying an `earlier` value comes before every write carrying a `later` value,
// with a flush between the last of the first and the first of the second.
void expect_ordered(const std::vector<IoEvent>& events, const std::set<std::byte>& earlier,
                    const std::set<std::byte>& later) {
    std::size_t last_early = 0, first_late = SIZE_MAX;
    bool any_early = false;
    for (const BlockWrite& w : block_writes(events)) {
        if (earlier.contains(w.value)) {
            last_early = std::max(last_early, w.position);
            any_early = true;
        }
        if (later.contains(w.value))
            first_late = std::min(first_late, w.position);
    }
    ASSERT_TRUE(any_early);
    ASSERT_NE(first_late, SIZE_MAX);
    EXPECT_LT(last_early, first_late);
    EXPECT_TRUE(flush_between(events, last_early, first_late));
}

}  // namespace

TEST(CacheOrder, BarrierSeparatesEpochsWithAFlush) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 32);
    dirty(*cache, 5, std::byte{0x10});  // epoch 0
    dirty(*cache, 1, std::byte{0x11});
    cache->barrier();
    dirty(*cache, 3, std::byte{0x20});  // epoch 1: lower block numbers than epoch 0's
    dirty(*cache, 0, std::byte{0x21});
    cache->barrier();
    dirty(*cache, 2, std::byte{0x30});  // epoch 2
    ASSERT_TRUE(cache->sync());
    auto events = dev->events();
    expect_ordered(events, {std::byte{0x10}, std::byte{0x11}}, {std::byte{0x20}, std::byte{0x21}});
    expect_ordered(events, {std::byte{0x20}, std::byte{0x21}}, {std::byte{0x30}});
    EXPECT_EQ(events.back().kind, IoEvent::flush);
    EXPECT_EQ(dev->count(IoEvent::flush), 3u);
}

// An unordered cache (an MNT_ASYNC mount): barriers change nothing, so a block changed again
// after one is written once, with its last bytes, and sync() flushes once.
TEST(CacheOrder, UnorderedCacheIgnoresBarriers) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto made = BufferCache::create(
        dev, bs, CacheOptions{.budget_bytes = 32 * bs, .read_ahead_blocks = 0, .ordered = false});
    ASSERT_TRUE(made);
    BufferCache& cache = **made;
    dirty(cache, 2, std::byte{0xa0});
    cache.barrier();
    dirty(cache, 9, std::byte{0xb1});
    dirty(cache, 2, std::byte{0xa1});
    cache.barrier();
    dirty(cache, 3, std::byte{0xc2});
    EXPECT_EQ(cache.stats().dirty_items, 3u);  // no frozen copy
    ASSERT_TRUE(cache.sync());
    EXPECT_EQ(dev->count(IoEvent::flush), 1u);
    EXPECT_EQ(dev->count(IoEvent::write), 2u);  // blocks 2-3 coalesced, then 9
    EXPECT_EQ(dev->bytes()[2 * bs], std::byte{0xa1});
    EXPECT_EQ(dev->bytes()[3 * bs], std::byte{0xc2});
    EXPECT_EQ(dev->bytes()[9 * bs], std::byte{0xb1});
}

TEST(CacheOrder, EmptyBarriersCostNothing) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 32);
    dirty(*cache, 1, std::byte{1});
    cache->barrier();
    cache->barrier();
    ASSERT_TRUE(cache->sync());
    EXPECT_EQ(dev->count(IoEvent::write), 1u);
    EXPECT_EQ(dev->count(IoEvent::flush), 1u);
}

TEST(CacheOrder, RedirtiedBufferIsWrittenInBothEpochs) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 32);
    dirty(*cache, 2, std::byte{0xa0});  // the bitmap, epoch 0
    cache->barrier();
    dirty(*cache, 9, std::byte{0xb1});          // the inode, epoch 1
    dirty(*cache, 2, std::byte{0xa1});          // the bitmap again, epoch 1
    EXPECT_EQ(cache->stats().dirty_items, 3u);  // live 2, frozen 2, live 9
    ASSERT_TRUE(cache->sync());
    auto events = dev->events();
    expect_ordered(events, {std::byte{0xa0}}, {std::byte{0xb1}, std::byte{0xa1}});
    EXPECT_EQ(dev->bytes()[2 * bs], std::byte{0xa1});
    EXPECT_EQ(cache->stats().used_bytes, 2u * bs);  // the frozen copy is freed
}

TEST(CacheOrder, EvictionWritesEarlierEpochsFirst) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 2);
    auto held = cache->get(0);
    ASSERT_TRUE(held);
    auto bytes = held->mark_dirty();
    std::fill(bytes.begin(), bytes.end(), std::byte{0xe0});  // epoch 0, pinned
    cache->barrier();
    dirty(*cache, 1, std::byte{0xe1});  // epoch 1, unpinned: the only victim
    dev->take_events();
    ASSERT_TRUE(cache->get(2));
    auto events = dev->events();
    expect_ordered(events, {std::byte{0xe0}}, {std::byte{0xe1}});
    EXPECT_EQ(held->data()[0], std::byte{0xe0});
    EXPECT_EQ(cache->stats().dirty_items, 0u);
}

TEST(CacheOrder, EvictionSkipsHeldBuffersOfTheCurrentEpoch) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 3);
    auto held = cache->get(1);
    ASSERT_TRUE(held);
    held->mark_dirty()[0] = std::byte{0x77};
    dirty(*cache, 2, std::byte{0x22});
    dirty(*cache, 3, std::byte{0x33});  // full: 1 held, 2 and 3 dirty
    ASSERT_TRUE(cache->get(4));         // writes 2 and 3 (one request), not 1
    for (const BlockWrite& w : block_writes(dev->events()))
        EXPECT_NE(w.block, 1u);
    EXPECT_EQ(dev->count(IoEvent::write), 1u);
    ASSERT_TRUE(cache->sync());  // sync writes held buffers too
    EXPECT_EQ(dev->bytes()[1 * bs], std::byte{0x77});
}

TEST(CacheOrder, FrozenCopiesAreWrittenWhenTheBudgetRunsOut) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 2);
    auto a = cache->get(0);
    auto b = cache->get(1);
    ASSERT_TRUE(a && b);
    a->mark_dirty()[0] = std::byte{1};
    cache->barrier();
    a->mark_dirty()[0] = std::byte{2};  // frozen copy: over budget by one block
    EXPECT_EQ(cache->stats().used_bytes, 3u * bs);
    b->reset();
    EXPECT_EQ(dev->count(IoEvent::write), 0u);
    ASSERT_TRUE(cache->get(2));  // drops 1, still over: only the frozen copy can go
    EXPECT_EQ(dev->count(IoEvent::write), 1u);
    EXPECT_EQ(dev->bytes()[0], std::byte{1});
    EXPECT_EQ(cache->stats().used_bytes, 2u * bs);
    ASSERT_TRUE(cache->sync());
    EXPECT_EQ(dev->bytes()[0], std::byte{2});
}

TEST(CacheOrder, ContiguousDirtyBlocksAreCoalesced) {
    auto dev = std::make_shared<RecordingDevice>(512 * bs);
    auto cache = make_cache(dev, 512);
    for (std::uint64_t b = 64; b-- > 0;)  // dirtied in reverse order
        dirty(*cache, b, static_cast<std::byte>(b));
    for (std::uint64_t b : {300, 100, 101, 102, 103})
        dirty(*cache, b, std::byte{0xcc});
    ASSERT_TRUE(cache->sync());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> writes;  // (block, blocks)
    for (const IoEvent& e : dev->events())
        if (e.kind == IoEvent::write)
            writes.emplace_back(e.offset / bs, e.size / bs);
    using Run = std::pair<std::uint64_t, std::uint64_t>;
    EXPECT_EQ(writes, (std::vector<Run>{{0, 64}, {100, 4}, {300, 1}}));
    for (std::uint64_t b = 0; b < 64; ++b)
        EXPECT_EQ(dev->bytes()[b * bs + 17], static_cast<std::byte>(b));
}

TEST(CacheOrder, RunsAreSplitAtTheWriteLimit) {
    auto dev = std::make_shared<RecordingDevice>(512 * bs);
    auto cache = make_cache(dev, 512, 0, 16 * bs);
    for (std::uint64_t b = 0; b < 40; ++b)
        dirty(*cache, b, std::byte{1});
    ASSERT_TRUE(cache->sync());
    std::vector<std::uint64_t> sizes;
    for (const IoEvent& e : dev->events())
        if (e.kind == IoEvent::write)
            sizes.push_back(e.size / bs);
    EXPECT_EQ(sizes, (std::vector<std::uint64_t>{16, 16, 8}));
}

TEST(CacheOrder, SequentialScanReadsAhead) {
    auto dev = std::make_shared<RecordingDevice>(patterned(256 * bs, bs));
    auto cache = make_cache(dev, 128, 32);
    for (std::uint64_t b = 0; b < 256; ++b) {
        auto ref = cache->get(b);
        ASSERT_TRUE(ref);
        ASSERT_TRUE(std::equal(ref->data().begin(), ref->data().end(),
                               dev->bytes().begin() + static_cast<std::ptrdiff_t>(b * bs)))
            << b;
    }
    // Block 0 alone, then one request per 33 blocks.
    EXPECT_LE(dev->count(IoEvent::read), 10u);
    EXPECT_GE(cache->stats().read_ahead_blocks, 200u);
    std::uint64_t largest = 0;
    for (const IoEvent& e : dev->events())
        largest = std::max(largest, e.size);
    EXPECT_EQ(largest, 33u * bs);
}

TEST(CacheOrder, RandomAccessDoesNotReadAhead) {
    auto dev = std::make_shared<RecordingDevice>(patterned(256 * bs, bs));
    auto cache = make_cache(dev, 128, 32);
    for (std::uint64_t b : {40, 7, 99, 3, 200, 150, 60})
        ASSERT_TRUE(cache->get(b));
    EXPECT_EQ(dev->count(IoEvent::read), 7u);
    EXPECT_EQ(cache->stats().read_ahead_blocks, 0u);
}

TEST(CacheOrder, ReadAheadStopsAtCachedBlocksAndDeviceEnd) {
    auto dev = std::make_shared<RecordingDevice>(patterned(20 * bs, bs));
    auto cache = make_cache(dev, 64, 32);
    ASSERT_TRUE(cache->get(8));  // already cached when the scan reaches it
    ASSERT_TRUE(cache->get(4));
    ASSERT_TRUE(cache->get(5));  // sequential: reads 5..7 and stops before 8
    auto events = dev->take_events();
    EXPECT_EQ(events.back().offset, 5u * bs);
    EXPECT_EQ(events.back().size, 3u * bs);
    for (std::uint64_t b = 6; b < 20; ++b)
        ASSERT_TRUE(cache->get(b));
    for (const IoEvent& e : dev->events())
        EXPECT_LE(e.offset + e.size, 20u * bs);
}
