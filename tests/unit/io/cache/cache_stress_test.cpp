// Buffer cache under several threads: writers change their own blocks while readers share
// others, under a budget small enough that eviction write-back runs all the time. The
// discipline is the mount lock's: only the owner of a block changes it; shared blocks are only
// read. Built with -fsanitize=thread too, this test must be clean.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "io/cache/buffer_cache.hpp"
#include "recording_device.hpp"

using namespace uk;
using namespace uk::io;
using uk::io::test::IoEvent;
using uk::io::test::patterned;
using uk::io::test::RecordingDevice;

namespace {

constexpr std::uint32_t bs = 512;
constexpr std::uint64_t shared_blocks = 16;  // blocks [0, 16): read by everyone
constexpr std::uint64_t blocks_per_thread = 12;
constexpr unsigned threads = 4;
constexpr unsigned rounds = 1500;

std::uint64_t owned_block(unsigned thread, std::uint64_t i) {
    return shared_blocks + thread * blocks_per_thread + i;
}

// The value a thread stamps into its block: thread, block, round.
void stamp(std::span<std::byte> bytes, unsigned thread, std::uint64_t block, unsigned round) {
    const std::uint64_t words[3] = {thread, block, round};
    std::memcpy(bytes.data(), words, sizeof words);
}

struct Stamp {
    std::uint64_t thread, block, round;
};

Stamp read_stamp(std::span<const std::byte> bytes) {
    Stamp s{};
    std::memcpy(&s, bytes.data(), sizeof s);
    return s;
}

// One worker: change its own blocks, check shared blocks through get() and read_direct().
void work(BufferCache& cache, const std::vector<std::byte>& original, unsigned thread,
          std::vector<unsigned>& last_round, std::atomic<int>& failures) {
    for (unsigned round = 1; round <= rounds; ++round) {
        const std::uint64_t i = (round * 7 + thread) % blocks_per_thread;
        {
            auto ref = cache.get(owned_block(thread, i));
            if (!ref) {
                ++failures;
                continue;
            }
            const Stamp before = read_stamp(ref->data());
            if (last_round[i] != 0 && before.round != last_round[i])
                ++failures;  // lost an update
            stamp(ref->mark_dirty(), thread, owned_block(thread, i), round);
            last_round[i] = round;
        }
        const std::uint64_t s = (round + thread * 5) % shared_blocks;
        auto shared = cache.get(s);
        if (!shared || !std::equal(shared->data().begin(), shared->data().end(),
                                   original.begin() + static_cast<std::ptrdiff_t>(s * bs)))
            ++failures;
        if (round % 50 == 0) {
            std::vector<std::byte> range(4 * bs);
            const std::uint64_t first = round % (shared_blocks - 4);
            if (!cache.read_direct(first, range) ||
                !std::equal(range.begin(), range.end(),
                            original.begin() + static_cast<std::ptrdiff_t>(first * bs)))
                ++failures;
        }
    }
}

}  // namespace

TEST(CacheStress, WritersAndReadersUnderASmallBudget) {
    const std::uint64_t total = shared_blocks + threads * blocks_per_thread;
    const auto original = patterned(total * bs, bs);
    auto dev = std::make_shared<RecordingDevice>(original);
    auto created = BufferCache::create(dev, bs, CacheOptions{.budget_bytes = 24 * bs,
                                                             .read_ahead_blocks = 4});
    ASSERT_TRUE(created);
    BufferCache& cache = **created;
    std::atomic<int> failures{0};
    std::vector<std::vector<unsigned>> last_round(threads,
                                                  std::vector<unsigned>(blocks_per_thread, 0));
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back(work, std::ref(cache), std::cref(original), t, std::ref(last_round[t]),
                          std::ref(failures));
    for (auto& th : pool)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GT(cache.stats().evictions, 0u);
    ASSERT_TRUE(cache.sync());
    for (unsigned t = 0; t < threads; ++t)
        for (std::uint64_t i = 0; i < blocks_per_thread; ++i) {
            const std::uint64_t block = owned_block(t, i);
            const Stamp s = read_stamp(dev->bytes().subspan(block * bs, bs));
            EXPECT_EQ(s.thread, t);
            EXPECT_EQ(s.block, block);
            EXPECT_EQ(s.round, last_round[t][i]);
        }
    EXPECT_TRUE(std::equal(dev->bytes().begin(), dev->bytes().begin() + shared_blocks * bs,
                           original.begin()));
}

TEST(CacheStress, ABlockBeingReadIsReadOnce) {
    auto dev = std::make_shared<RecordingDevice>(patterned(64 * bs, bs));
    auto created = BufferCache::create(dev, bs, CacheOptions{.budget_bytes = 64 * bs,
                                                             .read_ahead_blocks = 0});
    ASSERT_TRUE(created);
    BufferCache& cache = **created;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < 8; ++t)
        pool.emplace_back([&, t] {
            for (std::uint64_t k = 0; k < 64; ++k) {
                const std::uint64_t b = (k * 13 + t) % 64;
                auto ref = cache.get(b);
                if (!ref || ref->data()[5] != dev->bytes()[b * bs + 5])
                    ++failures;
            }
        });
    for (auto& th : pool)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(dev->count(IoEvent::read), 64u);  // each block exactly once, however many asked
    EXPECT_EQ(cache.stats().misses, 64u);
    EXPECT_EQ(cache.stats().hits, 8u * 64u - 64u);
}

TEST(CacheStress, ConcurrentDirectReadsAndGets) {
    auto dev = std::make_shared<RecordingDevice>(patterned(256 * bs, bs));
    auto created = BufferCache::create(dev, bs, CacheOptions{.budget_bytes = 16 * bs,
                                                             .read_ahead_blocks = 8});
    ASSERT_TRUE(created);
    BufferCache& cache = **created;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < 4; ++t)
        pool.emplace_back([&, t] {
            std::vector<std::byte> range(32 * bs);
            for (unsigned k = 0; k < 200; ++k) {
                const std::uint64_t first = (k * 17 + t * 3) % (256 - 32);
                if (t % 2 == 0) {
                    if (!cache.read_direct(first, range) ||
                        !std::equal(range.begin(), range.end(),
                                    dev->bytes().begin() + static_cast<std::ptrdiff_t>(first * bs)))
                        ++failures;
                } else {
                    for (std::uint64_t b = first; b < first + 8; ++b) {
                        auto ref = cache.get(b);
                        if (!ref || ref->data()[9] != dev->bytes()[b * bs + 9])
                            ++failures;
                    }
                }
            }
        });
    for (auto& th : pool)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LE(cache.stats().used_bytes, 16u * bs);
}
