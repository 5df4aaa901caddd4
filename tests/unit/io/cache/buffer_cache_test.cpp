// Buffer cache basics: creation, round trips, LRU, pins, eviction, invalidate, read-only
// devices, image files.
#include "io/cache/buffer_cache.hpp"

#include <algorithm>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "recording_device.hpp"

using namespace uk;
using namespace uk::io;
using uk::io::test::IoEvent;
using uk::io::test::patterned;
using uk::io::test::RecordingDevice;

namespace {

constexpr std::uint32_t bs = 4096;

std::unique_ptr<BufferCache> make_cache(std::shared_ptr<BlockDevice> dev, std::size_t blocks,
                                        std::uint32_t read_ahead = 0) {
    return test::make_test_cache(std::move(dev), bs, blocks, read_ahead);
}

void fill(BufRef& ref, std::byte value) {
    auto bytes = ref.mark_dirty();
    std::fill(bytes.begin(), bytes.end(), value);
}

bool all_are(std::span<const std::byte> bytes, std::byte value) {
    return std::all_of(bytes.begin(), bytes.end(), [&](std::byte b) { return b == value; });
}

std::span<const std::byte> device_block(const RecordingDevice& dev, std::uint64_t block) {
    return dev.bytes().subspan(block * bs, bs);
}

}  // namespace

TEST(BufferCache, CreateRejectsBadParameters) {
    auto dev = std::make_shared<MemoryDevice>(64 * 1024);
    for (std::uint32_t size : {0u, 256u, 1000u, 3072u, 128u * 1024u})
        EXPECT_EQ(BufferCache::create(dev, size).error().errnum(), EINVAL) << size;
    auto tiny = BufferCache::create(dev, 4096, CacheOptions{.budget_bytes = 2048});
    ASSERT_FALSE(tiny);
    EXPECT_EQ(tiny.error().errnum(), EINVAL);
    EXPECT_NE(tiny.error().message().find("budget"), std::string::npos);
    for (std::uint32_t size : {512u, 1024u, 65536u})
        EXPECT_TRUE(BufferCache::create(dev, size)) << size;
}

TEST(BufferCache, GetReadsTheDevice) {
    auto dev = std::make_shared<RecordingDevice>(patterned(16 * bs, bs));
    auto cache = make_cache(dev, 8);
    EXPECT_EQ(cache->block_count(), 16u);
    auto ref = cache->get(5);
    ASSERT_TRUE(ref) << ref.error().describe();
    EXPECT_EQ(ref->block(), 5u);
    ASSERT_EQ(ref->data().size(), bs);
    EXPECT_TRUE(std::equal(ref->data().begin(), ref->data().end(), device_block(*dev, 5).begin()));
    auto again = cache->get(5);  // a second handle on the same buffer: a hit
    ASSERT_TRUE(again);
    EXPECT_EQ(again->data().data(), ref->data().data());
    EXPECT_EQ(cache->stats().hits, 1u);
    EXPECT_EQ(cache->stats().misses, 1u);
    EXPECT_EQ(dev->count(IoEvent::read), 1u);
}

TEST(BufferCache, WriteBackHappensAtSync) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 8);
    {
        auto ref = cache->get(2);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{0xab});
    }
    EXPECT_TRUE(all_are(device_block(*dev, 2), std::byte{0}));  // write-back, not write-through
    EXPECT_EQ(cache->stats().dirty_items, 1u);
    ASSERT_TRUE(cache->sync());
    EXPECT_TRUE(all_are(device_block(*dev, 2), std::byte{0xab}));
    EXPECT_EQ(cache->stats().dirty_items, 0u);
    EXPECT_EQ(dev->count(IoEvent::flush), 1u);
    ASSERT_TRUE(cache->sync());  // nothing more to write or flush
    EXPECT_EQ(dev->count(IoEvent::write), 1u);
    EXPECT_EQ(dev->count(IoEvent::flush), 1u);
}

TEST(BufferCache, GetZeroedDoesNotRead) {
    auto dev = std::make_shared<RecordingDevice>(
        std::vector<std::byte>(16 * bs, std::byte{0xff}));
    auto cache = make_cache(dev, 8);
    {
        auto ref = cache->get_zeroed(7);
        ASSERT_TRUE(ref);
        EXPECT_TRUE(all_are(ref->data(), std::byte{0}));
    }
    EXPECT_EQ(dev->count(IoEvent::read), 0u);
    EXPECT_EQ(cache->stats().dirty_items, 1u);
    {
        auto cached = cache->get(6);  // an already cached block is zeroed in place too
        ASSERT_TRUE(cached);
        auto zeroed = cache->get_zeroed(6);
        ASSERT_TRUE(zeroed);
        EXPECT_TRUE(all_are(cached->data(), std::byte{0}));
    }
    ASSERT_TRUE(cache->sync());
    EXPECT_TRUE(all_are(device_block(*dev, 7), std::byte{0}));
    EXPECT_TRUE(all_are(device_block(*dev, 6), std::byte{0}));
    EXPECT_TRUE(all_are(device_block(*dev, 5), std::byte{0xff}));
}

TEST(BufferCache, OutOfRangeIsEioWithoutDeviceAccess) {
    auto dev = std::make_shared<RecordingDevice>(10 * bs + 100);  // a partial last block
    auto cache = make_cache(dev, 8);
    EXPECT_EQ(cache->block_count(), 10u);
    auto past = cache->get(10);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().errnum(), EIO);
    EXPECT_NE(past.error().message().find("block 10"), std::string::npos);
    EXPECT_NE(past.error().message().find("41060 bytes"), std::string::npos);
    EXPECT_EQ(cache->get(UINT64_MAX).error().errnum(), EIO);
    EXPECT_EQ(cache->get_zeroed(10).error().errnum(), EIO);
    std::vector<std::byte> two(2 * bs);
    EXPECT_EQ(cache->read_direct(9, two).error().errnum(), EIO);
    EXPECT_EQ(cache->write_direct(9, two).error().errnum(), EIO);
    EXPECT_EQ(cache->read_direct(UINT64_MAX, two).error().errnum(), EIO);
    std::vector<std::byte> odd(bs + 1);
    EXPECT_EQ(cache->read_direct(0, odd).error().errnum(), EINVAL);
    EXPECT_TRUE(dev->events().empty());
    EXPECT_TRUE(cache->get(9));
}

TEST(BufferCache, LruDropsTheLeastRecentlyUsed) {
    auto dev = std::make_shared<RecordingDevice>(patterned(16 * bs, bs));
    auto cache = make_cache(dev, 4);
    for (std::uint64_t b : {0, 1, 2, 3})
        ASSERT_TRUE(cache->get(b));
    ASSERT_TRUE(cache->get(0));  // 1 is now the coldest
    ASSERT_TRUE(cache->get(4));  // drops 1
    EXPECT_EQ(cache->stats().evictions, 1u);
    EXPECT_EQ(cache->stats().cached_blocks, 4u);
    const std::size_t reads = dev->count(IoEvent::read);
    for (std::uint64_t b : {0, 2, 3, 4})
        ASSERT_TRUE(cache->get(b));
    EXPECT_EQ(dev->count(IoEvent::read), reads);  // all hits
    auto one = cache->get(1);
    ASSERT_TRUE(one);
    EXPECT_EQ(dev->count(IoEvent::read), reads + 1);
    EXPECT_TRUE(std::equal(one->data().begin(), one->data().end(), device_block(*dev, 1).begin()));
    EXPECT_LE(cache->stats().used_bytes, 4u * bs);
}

TEST(BufferCache, PinnedBuffersStayAndExhaustionIsEnomem) {
    auto dev = std::make_shared<RecordingDevice>(patterned(16 * bs, bs));
    auto cache = make_cache(dev, 2);
    auto a = cache->get(0);
    auto b = cache->get(1);
    ASSERT_TRUE(a && b);
    fill(*a, std::byte{1});
    auto c = cache->get(2);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().errnum(), ENOMEM);
    EXPECT_NE(c.error().message().find("in use"), std::string::npos);
    EXPECT_EQ(cache->get_zeroed(3).error().errnum(), ENOMEM);
    b->reset();  // now 1 can go
    auto d = cache->get(2);
    ASSERT_TRUE(d) << d.error().describe();
    EXPECT_TRUE(all_are(a->data(), std::byte{1}));  // the pinned one kept its bytes
    EXPECT_LE(cache->stats().used_bytes, 2u * bs);
}

TEST(BufferCache, BufRefMovesAndResets) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 1);
    auto first = cache->get(0);
    ASSERT_TRUE(first);
    BufRef moved = std::move(*first);
    EXPECT_FALSE(*first);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(moved);
    EXPECT_EQ(cache->get(1).error().errnum(), ENOMEM);
    BufRef other;
    other = std::move(moved);
    EXPECT_EQ(other.block(), 0u);
    other.reset();
    EXPECT_FALSE(other);
    EXPECT_TRUE(cache->get(1));
}

TEST(BufferCache, DirtyEvictionWritesBack) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 2);
    {
        auto ref = cache->get(0);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{0x11});
    }
    ASSERT_TRUE(cache->get(1));
    ASSERT_TRUE(cache->get(2));  // evicts 0, which must be written first
    EXPECT_TRUE(all_are(device_block(*dev, 0), std::byte{0x11}));
    EXPECT_EQ(cache->stats().dirty_items, 0u);
    auto back = cache->get(0);  // read again from the device
    ASSERT_TRUE(back);
    EXPECT_TRUE(all_are(back->data(), std::byte{0x11}));
}

TEST(BufferCache, WriteBackKeepsLruOrder) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 3);
    for (std::uint64_t b : {0, 1}) {
        auto ref = cache->get(b);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{0x0f});
    }
    ASSERT_TRUE(cache->get(2));  // coldest to hottest: 0 1 2
    ASSERT_TRUE(cache->get(3));  // writes 0 and 1 in one request, drops 0
    EXPECT_EQ(dev->count(IoEvent::write), 1u);
    ASSERT_TRUE(cache->get(4));  // drops 1, still the coldest: writing did not warm it
    const std::size_t reads = dev->count(IoEvent::read);
    ASSERT_TRUE(cache->get(2));
    EXPECT_EQ(dev->count(IoEvent::read), reads);
}

TEST(BufferCache, InvalidateForgetsCurrentEpochChanges) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 8);
    {
        auto ref = cache->get(3);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{0x33});
    }
    cache->invalidate(3);
    cache->invalidate(9);  // not cached: nothing to do
    EXPECT_EQ(cache->stats().cached_blocks, 0u);
    ASSERT_TRUE(cache->sync());
    EXPECT_EQ(dev->count(IoEvent::write), 0u);
    auto ref = cache->get(3);
    ASSERT_TRUE(ref);
    EXPECT_TRUE(all_are(ref->data(), std::byte{0}));
}

TEST(BufferCache, InvalidateWhilePinnedDropsAtRelease) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 8);
    auto ref = cache->get(4);
    ASSERT_TRUE(ref);
    fill(*ref, std::byte{0x44});
    cache->invalidate(4);
    EXPECT_EQ(cache->stats().cached_blocks, 1u);  // still held
    EXPECT_EQ(cache->stats().dirty_items, 0u);
    ref->reset();
    EXPECT_EQ(cache->stats().cached_blocks, 0u);
    ASSERT_TRUE(cache->sync());
    EXPECT_EQ(dev->count(IoEvent::write), 0u);
}

TEST(BufferCache, InvalidateKeepsContentOfEarlierEpochs) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 8);
    {
        auto ref = cache->get(3);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{0x31});
        cache->barrier();
        fill(*ref, std::byte{0x32});  // epoch 1: the epoch-0 content is frozen
    }
    cache->invalidate(3);  // forgets 0x32, not 0x31
    ASSERT_TRUE(cache->sync());
    EXPECT_TRUE(all_are(device_block(*dev, 3), std::byte{0x31}));
    EXPECT_EQ(cache->stats().dirty_items, 0u);
    EXPECT_EQ(cache->stats().cached_blocks, 0u);
    EXPECT_EQ(cache->stats().used_bytes, 0u);
}

TEST(BufferCache, ReadOnlyDeviceNeverWrites) {
    auto dev = std::make_shared<RecordingDevice>(patterned(16 * bs, bs), true);
    auto cache = make_cache(dev, 2);
    ASSERT_TRUE(cache->get(1));
    ASSERT_TRUE(cache->sync());  // nothing dirty: fine
    {
        auto ref = cache->get(0);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{9});  // allowed in memory ...
    }
    auto synced = cache->sync();  // ... but never silently dropped or written
    ASSERT_FALSE(synced);
    EXPECT_EQ(synced.error().errnum(), EROFS);
    EXPECT_NE(synced.error().message().find("read-only"), std::string::npos);
    ASSERT_TRUE(cache->get(1));
    auto evicting = cache->get(2);  // the dirty block 0 is the coldest: cannot be written
    ASSERT_FALSE(evicting);
    EXPECT_EQ(evicting.error().errnum(), EROFS);
    std::vector<std::byte> block(bs);
    EXPECT_EQ(cache->write_direct(5, block).error().errnum(), EROFS);
    EXPECT_EQ(dev->count(IoEvent::write), 0u);
    EXPECT_EQ(dev->count(IoEvent::flush), 0u);
    EXPECT_EQ(cache->stats().dirty_items, 1u);
}

TEST(BufferCache, DestructorWritesNothing) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    {
        auto cache = make_cache(dev, 8);
        auto ref = cache->get(1);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{1});
    }
    EXPECT_EQ(dev->count(IoEvent::write), 0u);
}

TEST(BufferCache, FailedReadIsReportedAndRetried) {
    auto dev = std::make_shared<RecordingDevice>(patterned(16 * bs, bs));
    auto cache = make_cache(dev, 8);
    dev->fail_reads(true);
    auto failed = cache->get(2);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().errnum(), EIO);
    EXPECT_NE(failed.error().message().find("block 2"), std::string::npos);
    EXPECT_EQ(cache->stats().cached_blocks, 0u);
    dev->fail_reads(false);
    auto ok = cache->get(2);
    ASSERT_TRUE(ok);
    EXPECT_TRUE(std::equal(ok->data().begin(), ok->data().end(), device_block(*dev, 2).begin()));
}

TEST(BufferCache, FailedWriteStaysDirty) {
    auto dev = std::make_shared<RecordingDevice>(16 * bs);
    auto cache = make_cache(dev, 8);
    {
        auto ref = cache->get(6);
        ASSERT_TRUE(ref);
        fill(*ref, std::byte{6});
    }
    dev->fail_writes(true);
    auto failed = cache->sync();
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().errnum(), EIO);
    EXPECT_NE(failed.error().message().find("block 6"), std::string::npos);
    EXPECT_EQ(cache->stats().dirty_items, 1u);
    dev->fail_writes(false);
    ASSERT_TRUE(cache->sync());
    EXPECT_TRUE(all_are(device_block(*dev, 6), std::byte{6}));
}

TEST(BufferCache, ImageFileRoundTrip) {
    char path[] = "/tmp/ukfs-cache-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 64 * 1024), 0);
    close(fd);
    {
        auto image = ImageFile::open(path, false);
        ASSERT_TRUE(image) << image.error().describe();
        auto cache = BufferCache::create(std::move(*image), 1024, CacheOptions{.budget_bytes = 4096});
        ASSERT_TRUE(cache);
        for (std::uint64_t b = 0; b < 64; b += 3) {  // more than the budget: evictions write
            auto ref = (*cache)->get(b);
            ASSERT_TRUE(ref) << ref.error().describe();
            fill(*ref, static_cast<std::byte>(b + 1));
        }
        ASSERT_TRUE((*cache)->sync());
    }
    auto image = ImageFile::open(path, true);
    ASSERT_TRUE(image);
    auto cache = BufferCache::create(std::move(*image), 1024, CacheOptions{.budget_bytes = 8192});
    ASSERT_TRUE(cache);
    for (std::uint64_t b = 0; b < 64; ++b) {
        auto ref = (*cache)->get(b);
        ASSERT_TRUE(ref);
        EXPECT_TRUE(all_are(ref->data(), static_cast<std::byte>(b % 3 == 0 ? b + 1 : 0))) << b;
    }
    std::vector<std::byte> all(64 * 1024);
    ASSERT_TRUE((*cache)->read_direct(0, all));
    EXPECT_EQ(all[63 * 1024], std::byte{64});
    EXPECT_EQ(all[62 * 1024], std::byte{0});
    unlink(path);
}
