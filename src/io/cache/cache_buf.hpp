// The buffer cache's private records: one buffer, its frozen copies, the keys of the dirty set.
// Only buffer_cache.cpp and writeback.cpp include this file; every field is guarded by
// BufferCache::m_mutex unless its comment says otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>

namespace uk::io {

enum class BufState : std::uint8_t {
    loading,  // a thread is reading it from the device; others wait on m_io_done
    valid,    // bytes hold the block
    invalid,  // the read failed; the next get() tries again
};

// A buffer's content as it was at the end of `epoch`. Made by mark_dirty() when a buffer that
// is still dirty from an earlier epoch is changed again: the earlier content must reach the
// device in its own epoch, before anything of a later one. Immutable once made, so the flush
// path reads it without any lock.
struct FrozenCopy {
    std::uint64_t epoch;
    std::unique_ptr<std::byte[]> bytes;
};

// One cached block.
struct CacheBuf {
    CacheBuf(std::uint64_t block_no, std::unique_ptr<std::byte[]> memory)
        : block(block_no), bytes(std::move(memory)) {}

    const std::uint64_t block;
    // The block's bytes, never reallocated while the buffer lives. Not guarded by m_mutex: they
    // follow the mount lock (see "Threads" in buffer_cache.hpp).
    const std::unique_ptr<std::byte[]> bytes;
    BufState state = BufState::loading;
    // BufRefs plus the cache's own short-lived holds (a read-ahead in flight, a read_direct
    // copy). A pinned buffer is off the LRU list and never dropped.
    std::uint32_t pins = 0;
    // The live bytes differ from the device and belong to `epoch`.
    bool dirty = false;
    // The flush path is copying the live bytes to the device; mark_dirty() waits for it.
    bool writing = false;
    // invalidate()d while pinned or still owing earlier-epoch writes: drop it as soon as it is
    // unpinned and clean.
    bool stale = false;
    std::uint64_t epoch = 0;
    // Earlier-epoch contents still owed to the device, oldest first; all epochs < `epoch`.
    // The epoch writer goes oldest epoch first, so the copy it writes and frees is the front
    // one: a buffer changed in thousands of epochs before a write-back costs O(1) a copy.
    // A list, not a deque: an empty one allocates nothing, and most buffers have none.
    std::list<FrozenCopy> frozen;
    // The LRU list (unpinned buffers only), most recently used at the head.
    CacheBuf* lru_prev = nullptr;
    CacheBuf* lru_next = nullptr;
};

}  // namespace uk::io
