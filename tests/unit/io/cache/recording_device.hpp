// A memory device that records every request (and the bytes written), and can be told to fail
// reads or writes: the witness for ordering, coalescing and read-ahead tests.
#pragma once

#include <gtest/gtest.h>

#include "io/cache/buffer_cache.hpp"

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "io/block_device.hpp"

namespace uk::io::test {

struct IoEvent {
    enum Kind { read, write, flush } kind;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::vector<std::byte> data;  // writes only
};

class RecordingDevice final : public BlockDevice {
public:
    explicit RecordingDevice(std::uint64_t size, bool read_only = false)
        : m_memory(size, read_only) {}
    explicit RecordingDevice(std::vector<std::byte> bytes, bool read_only = false)
        : m_memory(std::move(bytes), read_only) {}

    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override {
        {
            std::lock_guard lk(m_mutex);
            m_events.push_back({IoEvent::read, offset, dst.size(), {}});
            if (m_fail_reads)
                return Error::sys(EIO, "recording device: injected read error");
        }
        return m_memory.read_at(offset, dst);
    }

    Result<void> write_at(std::uint64_t offset, std::span<const std::byte> src) override {
        {
            std::lock_guard lk(m_mutex);
            m_events.push_back({IoEvent::write, offset, src.size(), {src.begin(), src.end()}});
            if (m_fail_writes)
                return Error::sys(EIO, "recording device: injected write error");
        }
        return m_memory.write_at(offset, src);
    }

    Result<void> flush() override {
        std::lock_guard lk(m_mutex);
        m_events.push_back({IoEvent::flush, 0, 0, {}});
        return {};
    }

    std::uint64_t size() const override { return m_memory.size(); }
    bool read_only() const override { return m_memory.read_only(); }
    std::string name() const override { return "recording"; }

    std::vector<IoEvent> events() const {
        std::lock_guard lk(m_mutex);
        return m_events;
    }
    std::vector<IoEvent> take_events() {
        std::lock_guard lk(m_mutex);
        return std::exchange(m_events, {});
    }
    std::size_t count(IoEvent::Kind kind) const {
        std::lock_guard lk(m_mutex);
        std::size_t n = 0;
        for (const IoEvent& e : m_events)
            n += e.kind == kind;
        return n;
    }
    void fail_reads(bool on) {
        std::lock_guard lk(m_mutex);
        m_fail_reads = on;
    }
    void fail_writes(bool on) {
        std::lock_guard lk(m_mutex);
        m_fail_writes = on;
    }
    // The device's bytes; only while no other thread uses it.
    std::span<const std::byte> bytes() const { return m_memory.bytes(); }

private:
    MemoryDevice m_memory;
    mutable std::mutex m_mutex;
    std::vector<IoEvent> m_events;
    bool m_fail_reads = false;
    bool m_fail_writes = false;
};

// Device bytes where byte i of block b is (b * 7 + i) % 251: every block differs.
inline std::vector<std::byte> patterned(std::uint64_t size, std::uint32_t block_size) {
    std::vector<std::byte> bytes(size);
    for (std::uint64_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::byte>((i / block_size * 7 + i % block_size) % 251);
    return bytes;
}

// A cache over `dev` with room for `blocks` blocks, for tests; fails the test if it cannot.
inline std::unique_ptr<BufferCache> make_test_cache(std::shared_ptr<BlockDevice> dev,
                                                    std::uint32_t block_size, std::size_t blocks,
                                                    std::uint32_t read_ahead = 0,
                                                    std::size_t max_write = std::size_t{1} << 20) {
    auto cache = BufferCache::create(std::move(dev), block_size,
                                     CacheOptions{.budget_bytes = blocks * block_size,
                                                  .read_ahead_blocks = read_ahead,
                                                  .max_write_bytes = max_write});
    EXPECT_TRUE(cache) << cache.error().describe();
    return cache ? std::move(*cache) : nullptr;
}

}  // namespace uk::io::test
