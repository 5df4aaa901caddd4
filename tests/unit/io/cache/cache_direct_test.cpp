// Buffer cache direct transfers: read_direct() and write_direct() against cached (and dirty)
// copies of the same blocks, and the requests they make.
#include <algorithm>

#include <gtest/gtest.h>

#include "io/cache/buffer_cache.hpp"
#include "recording_device.hpp"

using namespace uk;
using namespace uk::io;
using uk::io::test::IoEvent;
using uk::io::test::patterned;
using uk::io::test::RecordingDevice;

namespace {

constexpr std::uint32_t bs = 1024;

std::unique_ptr<BufferCache> make_cache(std::shared_ptr<BlockDevice> dev, std::size_t blocks) {
    return test::make_test_cache(std::move(dev), bs, blocks);
}

void dirty(BufferCache& cache, std::uint64_t block, std::byte value) {
    auto ref = cache.get(block);
    ASSERT_TRUE(ref) << ref.error().describe();
    auto bytes = ref->mark_dirty();
    std::fill(bytes.begin(), bytes.end(), value);
}

bool all_are(std::span<const std::byte> bytes, std::byte value) {
    return std::all_of(bytes.begin(), bytes.end(), [&](std::byte b) { return b == value; });
}

using Request = std::pair<std::uint64_t, std::uint64_t>;  // (block, blocks)

std::vector<Request> requests(const std::vector<IoEvent>& events, IoEvent::Kind kind) {
    std::vector<Request> out;
    for (const IoEvent& e : events)
        if (e.kind == kind)
            out.emplace_back(e.offset / bs, e.size / bs);
    return out;
}

}  // namespace

TEST(CacheDirect, ReadDirectTakesCachedBlocksAndReadsTheGaps) {
    const auto original = patterned(32 * bs, bs);
    auto dev = std::make_shared<RecordingDevice>(original);
    auto cache = make_cache(dev, 16);
    dirty(*cache, 3, std::byte{0xd3});
    dirty(*cache, 4, std::byte{0xd4});
    ASSERT_TRUE(cache->get(7));  // clean and cached
    dev->take_events();
    std::vector<std::byte> dst(10 * bs);
    ASSERT_TRUE(cache->read_direct(0, dst));
    EXPECT_EQ(requests(dev->events(), IoEvent::read),
              (std::vector<Request>{{0, 3}, {5, 2}, {8, 2}}));
    for (std::uint64_t b = 0; b < 10; ++b) {
        auto block = std::span(dst).subspan(b * bs, bs);
        if (b == 3 || b == 4)
            EXPECT_TRUE(all_are(block, b == 3 ? std::byte{0xd3} : std::byte{0xd4}));
        else
            EXPECT_TRUE(std::equal(block.begin(), block.end(), original.begin() + b * bs)) << b;
    }
    EXPECT_EQ(cache->stats().cached_blocks, 3u);  // nothing added
    EXPECT_EQ(cache->stats().dirty_items, 2u);    // nothing written
}

TEST(CacheDirect, ReadDirectOfUncachedRangeIsOneRequest) {
    auto dev = std::make_shared<RecordingDevice>(patterned(256 * bs, bs));
    auto cache = make_cache(dev, 8);
    std::vector<std::byte> dst(200 * bs);
    ASSERT_TRUE(cache->read_direct(40, dst));
    EXPECT_EQ(requests(dev->events(), IoEvent::read), (std::vector<Request>{{40, 200}}));
    EXPECT_TRUE(std::equal(dst.begin(), dst.end(), dev->bytes().begin() + 40 * bs));
    EXPECT_TRUE(cache->read_direct(0, std::span<std::byte>{}));
}

TEST(CacheDirect, ReadDirectOfFullyCachedRangeReadsNothing) {
    auto dev = std::make_shared<RecordingDevice>(patterned(64 * bs, bs));
    auto cache = make_cache(dev, 64);
    for (std::uint64_t b = 10; b < 14; ++b)
        dirty(*cache, b, static_cast<std::byte>(b));
    dev->take_events();
    std::vector<std::byte> dst(4 * bs);
    ASSERT_TRUE(cache->read_direct(10, dst));
    EXPECT_TRUE(dev->events().empty());
    EXPECT_EQ(dst[3 * bs], std::byte{13});
}

TEST(CacheDirect, WriteDirectUpdatesCachedCopies) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 16);
    auto held = cache->get(2);
    ASSERT_TRUE(held);
    held->mark_dirty()[0] = std::byte{0x99};  // dirty, held
    ASSERT_TRUE(cache->get(5));               // clean, cached
    dev->take_events();
    std::vector<std::byte> src(8 * bs, std::byte{0xdd});
    ASSERT_TRUE(cache->write_direct(0, src));
    EXPECT_EQ(requests(dev->events(), IoEvent::write), (std::vector<Request>{{0, 8}}));
    EXPECT_TRUE(all_are(held->data(), std::byte{0xdd}));
    EXPECT_EQ(cache->stats().dirty_items, 0u);  // superseded, so no longer dirty
    auto five = cache->get(5);
    ASSERT_TRUE(five);
    EXPECT_TRUE(all_are(five->data(), std::byte{0xdd}));
    const auto writes = dev->count(IoEvent::write);
    ASSERT_TRUE(cache->sync());
    EXPECT_EQ(dev->count(IoEvent::write), writes);  // the stale 0x99 is never written
    EXPECT_TRUE(all_are(dev->bytes().subspan(0, 8 * bs), std::byte{0xdd}));
}

TEST(CacheDirect, WriteDirectComesAfterEarlierEpochs) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 16);
    dirty(*cache, 9, std::byte{0x09});  // epoch 0
    dirty(*cache, 11, std::byte{0x0b});
    cache->barrier();
    dirty(*cache, 12, std::byte{0x0c});  // epoch 1: stays in the cache
    dev->take_events();                  // the reads
    std::vector<std::byte> src(2 * bs, std::byte{0xdd});
    ASSERT_TRUE(cache->write_direct(0, src));  // epoch 1
    auto events = dev->events();
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].kind, IoEvent::write);
    EXPECT_EQ(events[1].kind, IoEvent::write);
    EXPECT_EQ(events[2].kind, IoEvent::flush);
    EXPECT_EQ(events[3].kind, IoEvent::write);
    EXPECT_EQ(events[3].offset, 0u);
    EXPECT_EQ(cache->stats().dirty_items, 1u);
    ASSERT_TRUE(cache->sync());  // block 12 is of the same epoch: no flush before it
    events = dev->events();
    ASSERT_EQ(events.size(), 6u);
    EXPECT_EQ(events[4].kind, IoEvent::write);
    EXPECT_EQ(events[5].kind, IoEvent::flush);
}

TEST(CacheDirect, WriteDirectThenReadBackThroughTheCache) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 4);
    std::vector<std::byte> src(32 * bs);
    for (std::size_t i = 0; i < src.size(); ++i)
        src[i] = static_cast<std::byte>(i * 31 % 253);
    ASSERT_TRUE(cache->write_direct(16, src));
    EXPECT_EQ(cache->stats().cached_blocks, 0u);  // file data did not pass through the cache
    for (std::uint64_t b = 16; b < 48; ++b) {
        auto ref = cache->get(b);
        ASSERT_TRUE(ref);
        EXPECT_TRUE(std::equal(ref->data().begin(), ref->data().end(),
                               src.begin() + static_cast<std::ptrdiff_t>((b - 16) * bs)));
    }
    std::vector<std::byte> back(32 * bs);
    ASSERT_TRUE(cache->read_direct(16, back));
    EXPECT_EQ(back, src);
}

TEST(CacheDirect, FailedWriteDirectLeavesCachedCopiesAlone) {
    auto dev = std::make_shared<RecordingDevice>(64 * bs);
    auto cache = make_cache(dev, 16);
    dirty(*cache, 1, std::byte{0x01});
    dev->fail_writes(true);
    std::vector<std::byte> src(4 * bs, std::byte{0xdd});
    auto failed = cache->write_direct(0, src);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().errnum(), EIO);
    dev->fail_writes(false);
    auto one = cache->get(1);
    ASSERT_TRUE(one);
    EXPECT_TRUE(all_are(one->data(), std::byte{0x01}));
    EXPECT_EQ(cache->stats().dirty_items, 1u);
}
