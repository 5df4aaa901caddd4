// The buffer cache shared by all file system drivers: block-sized buffers over one BlockDevice
// within a fixed memory budget, LRU replacement, write-back with an explicit sync(), write
// ordering by epochs (barrier()), read-ahead for sequential scans, and direct transfers that
// keep large file data out of the cache. Models: Haiku's block_cache and CachedBlock (the RAII
// handle), NetBSD's bread/bdwrite, e2fsprogs' unix_io (one I/O path, large coalesced writes).
//
// Blocks. The block size is fixed per cache (the driver's, a power of two from 512 B to
// 64 KiB); block n covers device bytes [n * block_size, (n + 1) * block_size). A partial block
// at the end of the device is not addressable. A block number past the end is EIO, never a
// device access.
//
// Memory. Buffers come out of `budget_bytes`. A handle (BufRef) pins its buffer; pinned buffers
// are never dropped. When the budget is used up, get() drops the least recently used unpinned
// buffer, writing it back first if it is dirty. When every buffer is pinned, get() fails with
// ENOMEM rather than growing. Read-ahead only takes free room or clean buffers. One documented
// overshoot: mark_dirty() on a buffer still owing an earlier epoch's content keeps a frozen
// copy of that content (see below) even when the budget is full, one block per such buffer;
// the next get() that needs room writes those copies out and frees them.
//
// Write ordering. barrier() ends the current epoch. The guarantee: every write the device sees
// carrying content of epoch e is issued after every write carrying content of an earlier epoch
// has completed and a device flush() has followed it. A buffer changed in epoch 1 and again,
// after a barrier, in epoch 2 is written twice if its epoch-1 content has not reached the device
// by then: mark_dirty() keeps the epoch-1 content as a frozen copy, written with epoch 1, and
// the buffer's live bytes are written with epoch 2. So "bitmap, barrier, inode" never reaches
// the device as inode-before-bitmap, whatever else changes the bitmap later. Within an epoch
// writes are unordered (sorted by block and coalesced). A failed write leaves its items dirty
// and stops; since every later write first writes what is left of earlier epochs, the order
// holds across failures too. write_direct() counts as a change made in the current epoch when
// it is called, and reaches the device before it returns.
//
// The flush path. Every byte the cache writes leaves through one private function, emit(),
// and every device flush through flush_device(); both run only under m_flush_mutex, called by
// the epoch writer (write_back_held(): sync, eviction, write_direct's ordering) and by
// write_direct. An atomic commit mechanism (a redo log) belongs in those two functions and
// needs no change in any driver.
//
// Threads. Every member function may be called from any thread; the cache's records are
// guarded by m_mutex, which is never held across device I/O. A buffer's *bytes* are not guarded
// by the cache: they follow the mount lock (DESIGN.md). A thread changes bytes only through the
// span returned by mark_dirty(), and while it does, no other thread reads those bytes or calls
// sync(), barrier(), invalidate() or write_direct(); in ukfs that thread holds the mount lock
// exclusively. Apart from what its caller asks (read_direct() copies cached bytes out,
// get_zeroed() and write_direct() overwrite them), the cache touches buffer bytes from another
// thread only to write them back, and then never the live bytes of a buffer that is pinned and
// dirty in the current epoch (except in sync()); mark_dirty() waits while a write-back is
// copying the buffer. So threads that change only blocks they hold, while others read other
// blocks, need no lock at all (the stress test does this under TSan).
//
// Lifetime. The destructor writes nothing: unmount calls sync() first. Every BufRef must be
// released before the cache is destroyed.
#pragma once

#include <atomic>
#include <compare>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"

namespace uk::io {

struct CacheBuf;
class BufferCache;

struct CacheOptions {
    // Memory for buffers and frozen copies; at least one block.
    std::size_t budget_bytes = std::size_t{16} << 20;
    // Blocks read ahead, in the same request, when get() sees a sequential pattern (0: none).
    // At most half the budget.
    std::uint32_t read_ahead_blocks = 32;
    // The largest write request made of coalesced dirty blocks (rounded down to whole blocks).
    std::size_t max_write_bytes = std::size_t{1} << 20;
    // False for an asynchronous mount (NetBSD's MNT_ASYNC): barrier() does nothing, so every
    // change is of one epoch and written back unordered, without device flushes between. A
    // crash may then leave any mix of old and new blocks; sync() still flushes.
    bool ordered = true;
};

// Counters for tests and benchmarks. `hits`/`misses` count blocks asked of get() and
// read_direct() found cached or not; the request counters count device calls.
struct CacheStats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t read_requests = 0;
    std::uint64_t bytes_read = 0;
    std::uint64_t write_requests = 0;
    std::uint64_t bytes_written = 0;
    std::uint64_t flushes = 0;
    std::uint64_t evictions = 0;  // buffers dropped to make room
    std::uint64_t read_ahead_blocks = 0;
    // A snapshot of the cache's state.
    std::uint64_t cached_blocks = 0;
    std::uint64_t dirty_items = 0;  // dirty buffers plus frozen copies
    std::uint64_t used_bytes = 0;
};

// A pinned buffer, like Haiku's CachedBlock: move-only, unpins when destroyed. A BufRef is used
// by one thread at a time.
class BufRef {
public:
    BufRef() = default;
    BufRef(BufRef&& other) noexcept { take(other); }
    BufRef& operator=(BufRef&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    BufRef(const BufRef&) = delete;
    BufRef& operator=(const BufRef&) = delete;
    ~BufRef() { reset(); }

    explicit operator bool() const { return m_buf != nullptr; }
    std::uint64_t block() const { return m_block; }
    std::span<const std::byte> data() const { return {m_bytes, m_size}; }

    // Declare a change and get the bytes to change: the buffer becomes dirty in the current
    // epoch. Call it before changing the bytes, and again after any barrier() before changing
    // them further: the span is only for changes in the epoch it was obtained in.
    std::span<std::byte> mark_dirty();

    // Unpin now (the destructor does the same).
    void reset();

private:
    friend class BufferCache;
    BufRef(BufferCache* cache, CacheBuf* buf, std::byte* bytes, std::uint32_t size,
           std::uint64_t block)
        : m_cache(cache), m_buf(buf), m_bytes(bytes), m_size(size), m_block(block) {}
    void take(BufRef& other) noexcept;

    BufferCache* m_cache = nullptr;
    CacheBuf* m_buf = nullptr;
    std::byte* m_bytes = nullptr;
    std::uint32_t m_size = 0;
    std::uint64_t m_block = 0;
};

class BufferCache {
public:
    // EINVAL for a block size that is not a power of two in [512, 65536] or a budget smaller
    // than one block.
    static Result<std::unique_ptr<BufferCache>> create(std::shared_ptr<BlockDevice> device,
                                                       std::uint32_t block_size,
                                                       CacheOptions options = {});
    ~BufferCache();
    BufferCache(const BufferCache&) = delete;
    BufferCache& operator=(const BufferCache&) = delete;

    std::uint32_t block_size() const { return m_block_size; }
    std::uint64_t block_count() const { return m_block_count; }
    BlockDevice& device() const { return *m_device; }

    // The block, read from the device if it is not cached. A sequential pattern reads ahead.
    Result<BufRef> get(std::uint64_t block);
    // A freshly allocated block: no read, zero-filled, dirty in the current epoch.
    Result<BufRef> get_zeroed(std::uint64_t block);

    // End the current epoch (see "Write ordering"), unless the cache is not `ordered`. No I/O.
    void barrier();
    // Write every dirty buffer and frozen copy, epoch by epoch with a device flush between
    // epochs, then flush. EROFS when something is dirty and the device is read-only.
    Result<void> sync();
    // The block was freed: forget changes made to it in the current epoch, and drop the buffer
    // once nobody holds it. Its cached content is unspecified from now on (reallocate it with
    // get_zeroed()). Content dirtied before the last barrier is still written in its epoch:
    // the on-disk state of that epoch may need it.
    void invalidate(std::uint64_t block);

    // Whole blocks [first_block, first_block + dst.size() / block_size) into dst: cached blocks
    // (dirty ones too) are copied from the cache, runs of absent blocks are read straight from
    // the device into dst, one request per run. Nothing is added to the cache.
    Result<void> read_direct(std::uint64_t first_block, std::span<std::byte> dst);
    // Whole blocks to the device in one request, after every earlier epoch's content (see
    // "Write ordering"). Cached copies take the new bytes and become clean. On failure the
    // cached copies are unchanged and the device range is unspecified.
    Result<void> write_direct(std::uint64_t first_block, std::span<const std::byte> src);

    CacheStats stats() const;

private:
    friend class BufRef;
    struct WriteItem;
    // The dirty set is ordered by (epoch, block): the flush path walks it epoch by epoch, and
    // within an epoch by block, the order runs are coalesced in. A key names either the live
    // bytes of a buffer (buf.dirty && buf.epoch == key.epoch) or one of its frozen copies.
    struct DirtyKey {
        std::uint64_t epoch;
        std::uint64_t block;
        auto operator<=>(const DirtyKey&) const = default;
    };
    struct Counters {
        std::atomic<std::uint64_t> hits{0}, misses{0}, read_requests{0}, bytes_read{0},
            write_requests{0}, bytes_written{0}, flushes{0}, evictions{0}, read_ahead_blocks{0};
    };
    enum class Fill { read, zero };

    BufferCache(std::shared_ptr<BlockDevice> device, std::uint32_t block_size,
                const CacheOptions& options);

    // buffer_cache.cpp: lookup, loading, eviction, pins.
    Result<void> check_range(std::uint64_t first, std::uint64_t count) const;
    Result<std::uint64_t> whole_blocks(std::size_t bytes) const;
    Result<BufRef> acquire(std::uint64_t block, Fill fill);
    Result<BufRef> load(std::unique_lock<std::mutex>& lk, CacheBuf& first, bool sequential);
    Result<void> read_blocks(std::span<CacheBuf* const> run);
    void plan_read_ahead_locked(std::uint64_t block, std::vector<CacheBuf*>& run);
    Result<bool> make_room_locked(std::unique_lock<std::mutex>& lk);
    Result<bool> write_back_for_room(std::unique_lock<std::mutex>& lk, std::uint64_t last_epoch);
    bool try_room_locked();
    CacheBuf& insert_locked(std::uint64_t block);
    void drop_locked(CacheBuf& buf);
    BufRef make_ref(CacheBuf& buf);
    void pin_locked(CacheBuf& buf);
    void unpin_locked(CacheBuf& buf);
    void unpin(CacheBuf& buf);
    void lru_push_front(CacheBuf& buf);
    void lru_remove(CacheBuf& buf);
    void mark_dirty(CacheBuf& buf);
    void make_dirty_locked(std::unique_lock<std::mutex>& lk, CacheBuf& buf);
    std::vector<CacheBuf*> cached_in_locked(std::uint64_t first, std::uint64_t count);

    // writeback.cpp: the flush path and direct transfers.
    Result<void> write_back(std::uint64_t last_epoch, bool include_held);
    Result<void> write_back_held(std::uint64_t last_epoch, bool include_held);
    std::vector<WriteItem> select_locked(std::uint64_t& from_epoch, std::uint64_t last_epoch,
                                         bool include_held);
    Result<void> write_items(std::span<const WriteItem> items, std::size_t& written);
    void complete_locked(std::span<const WriteItem> items, std::size_t written);
    void drop_frozen_locked(CacheBuf& buf, std::uint64_t epoch);
    Result<void> emit(std::uint64_t epoch, std::uint64_t first_block,
                      std::span<const std::byte> bytes);
    Result<void> flush_device();
    Result<void> read_device(std::uint64_t first_block, std::span<std::byte> dst);
    void update_cached_after_write(std::uint64_t first, std::span<const std::byte> src);

    const std::shared_ptr<BlockDevice> m_device;
    const std::uint32_t m_block_size;
    const std::uint64_t m_block_count;
    const std::size_t m_budget_bytes;
    const std::uint32_t m_read_ahead;
    const std::size_t m_max_write_bytes;
    const bool m_ordered;
    Counters m_counters;

    // Guards every field below up to m_flush_mutex, and every CacheBuf field but `bytes`.
    mutable std::mutex m_mutex;
    // Signalled when a buffer leaves `loading` or `writing` and when the cache's own pins go.
    std::condition_variable m_io_done;
    std::unordered_map<std::uint64_t, std::unique_ptr<CacheBuf>> m_table;
    std::map<DirtyKey, CacheBuf*> m_dirty;
    CacheBuf* m_lru_head = nullptr;  // most recently used
    CacheBuf* m_lru_tail = nullptr;  // the next to drop
    std::size_t m_used_bytes = 0;
    std::size_t m_frozen_count = 0;
    std::size_t m_internal_pins = 0;  // read-ahead and read_direct pins: they go by themselves
    std::uint64_t m_epoch = 0;
    std::uint64_t m_last_get = UINT64_MAX;  // for read-ahead: the last block get() was asked

    // Serialises the flush path (one writer at a time) and guards the fields below. Taken
    // before m_mutex, never while holding it.
    std::mutex m_flush_mutex;
    bool m_unflushed = false;             // writes issued since the last device flush ...
    std::uint64_t m_unflushed_epoch = 0;  // ... all of this epoch
    std::vector<std::byte> m_staging;     // coalesced runs are assembled here
};

}  // namespace uk::io
