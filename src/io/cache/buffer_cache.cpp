// Buffer cache: lookup, loading and read-ahead, eviction, pins and dirtying. The flush path and
// the direct transfers are in writeback.cpp; the design is described in buffer_cache.hpp.
#include "io/cache/buffer_cache.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "base/checked.hpp"
#include "io/cache/cache_buf.hpp"

namespace uk::io {

namespace {

constexpr std::uint32_t min_block_size = 512;
constexpr std::uint32_t max_block_size = 64 * 1024;

std::unique_ptr<std::byte[]> block_memory(std::size_t size) {
    return std::make_unique_for_overwrite<std::byte[]>(size);
}

}  // namespace

// ---------------------------------------------------------------------------------- BufRef

std::span<std::byte> BufRef::mark_dirty() {
    assert(m_buf != nullptr && "mark_dirty() on an empty BufRef");
    m_cache->mark_dirty(*m_buf);
    return {m_bytes, m_size};
}

void BufRef::reset() {
    if (m_buf != nullptr)
        m_cache->unpin(*m_buf);
    m_cache = nullptr;
    m_buf = nullptr;
    m_bytes = nullptr;
    m_size = 0;
    m_block = 0;
}

void BufRef::take(BufRef& other) noexcept {
    m_cache = std::exchange(other.m_cache, nullptr);
    m_buf = std::exchange(other.m_buf, nullptr);
    m_bytes = std::exchange(other.m_bytes, nullptr);
    m_size = std::exchange(other.m_size, 0);
    m_block = std::exchange(other.m_block, 0);
}

// ------------------------------------------------------------------------- set-up, checks

Result<std::unique_ptr<BufferCache>> BufferCache::create(std::shared_ptr<BlockDevice> device,
                                                         std::uint32_t block_size,
                                                         CacheOptions options) {
    if (!device)
        return Error::sys(EINVAL, "buffer cache: no device");
    if (block_size < min_block_size || block_size > max_block_size ||
        (block_size & (block_size - 1)) != 0)
        return Error::sys(EINVAL, fmt::format("buffer cache: block size {} is not a power of two "
                                              "from {} to {}",
                                              block_size, min_block_size, max_block_size));
    if (options.budget_bytes < block_size)
        return Error::sys(EINVAL, fmt::format("buffer cache: a budget of {} bytes is smaller "
                                              "than one block ({} bytes)",
                                              options.budget_bytes, block_size));
    return std::unique_ptr<BufferCache>(new BufferCache(std::move(device), block_size, options));
}

BufferCache::BufferCache(std::shared_ptr<BlockDevice> device, std::uint32_t block_size,
                         const CacheOptions& options)
    : m_device(std::move(device)), m_block_size(block_size),
      m_block_count(m_device->size() / block_size),
      m_budget_bytes(options.budget_bytes / block_size * block_size),
      m_read_ahead(static_cast<std::uint32_t>(
          std::min<std::size_t>(options.read_ahead_blocks, options.budget_bytes / block_size / 2))),
      m_max_write_bytes(std::max<std::size_t>(options.max_write_bytes / block_size, 1) *
                        block_size),
      m_ordered(options.ordered) {}

// Writes nothing (see "Lifetime" in the header): dirty buffers not synced are lost.
BufferCache::~BufferCache() {
#ifndef NDEBUG
    for (const auto& entry : m_table)
        assert(entry.second->pins == 0 && "a BufRef outlives its BufferCache");
#endif
}

Result<void> BufferCache::check_range(std::uint64_t first, std::uint64_t count) const {
    if (range_fits(first, count, m_block_count))
        return {};
    const std::string what = count == 1 ? fmt::format("block {} is", first)
                                        : fmt::format("{} blocks from block {} are", count, first);
    return Error::sys(EIO, fmt::format("buffer cache: {} past the end of {} ({} bytes: {} blocks "
                                       "of {} bytes)",
                                       what, m_device->name(), m_device->size(), m_block_count,
                                       m_block_size));
}

Result<std::uint64_t> BufferCache::whole_blocks(std::size_t bytes) const {
    if (bytes % m_block_size != 0)
        return Error::sys(EINVAL, fmt::format("buffer cache: a direct transfer of {} bytes is not "
                                              "a whole number of {}-byte blocks",
                                              bytes, m_block_size));
    return std::uint64_t{bytes / m_block_size};
}

// ------------------------------------------------------------------------------ lookups

Result<BufRef> BufferCache::get(std::uint64_t block) {
    return acquire(block, Fill::read);
}

Result<BufRef> BufferCache::get_zeroed(std::uint64_t block) {
    return acquire(block, Fill::zero);
}

// Find or make the buffer of `block`. Each pass of the loop runs under m_mutex; a pass that had
// to drop it (make_room_locked() waited or wrote back a victim) starts again with a fresh
// lookup, since another thread may have brought the block in meanwhile. A buffer found
// `loading` is pinned and waited for: the thread that is reading it reads it once for all.
Result<BufRef> BufferCache::acquire(std::uint64_t block, Fill fill) {
    UKFS_TRY(check_range(block, 1));
    std::unique_lock lk(m_mutex);
    bool sequential = false;
    if (fill == Fill::read) {
        sequential = m_last_get != UINT64_MAX && block == m_last_get + 1;
        m_last_get = block;
    }
    for (;;) {
        auto it = m_table.find(block);
        if (it == m_table.end()) {
            if (!UKFS_TRY(make_room_locked(lk)))
                continue;
            CacheBuf& fresh = insert_locked(block);
            if (fill == Fill::read)
                return load(lk, fresh, sequential);
            fresh.state = BufState::valid;
            std::memset(fresh.bytes.get(), 0, m_block_size);
            make_dirty_locked(lk, fresh);
            return make_ref(fresh);
        }
        CacheBuf& buf = *it->second;
        pin_locked(buf);
        m_io_done.wait(lk, [&] { return buf.state != BufState::loading; });
        if (fill == Fill::read && buf.state == BufState::invalid) {  // its reader failed
            buf.state = BufState::loading;
            return load(lk, buf, false);
        }
        if (fill == Fill::zero) {
            buf.state = BufState::valid;
            make_dirty_locked(lk, buf);  // first, so an earlier epoch's content is frozen
            std::memset(buf.bytes.get(), 0, m_block_size);
            return make_ref(buf);
        }
        m_counters.hits.fetch_add(1, std::memory_order_relaxed);
        return make_ref(buf);
    }
}

BufRef BufferCache::make_ref(CacheBuf& buf) {
    return BufRef(this, &buf, buf.bytes.get(), m_block_size, buf.block);
}

// ------------------------------------------------------------------ loading, read-ahead

// Read `first` (pinned by the caller, `loading`) and, on a sequential pattern, the blocks after
// it in the same request. m_mutex is dropped for the read: threads asking for these blocks meanwhile
// find them `loading`, pin them and wait on m_io_done. If a read-ahead request fails (a bad
// sector further on), the block asked for is tried again alone.
Result<BufRef> BufferCache::load(std::unique_lock<std::mutex>& lk, CacheBuf& first,
                                 bool sequential) {
    std::vector<CacheBuf*> run{&first};
    if (sequential)
        plan_read_ahead_locked(first.block, run);
    m_counters.misses.fetch_add(1, std::memory_order_relaxed);
    lk.unlock();
    Result<void> read = read_blocks(run);
    lk.lock();
    for (std::size_t i = 1; i < run.size(); ++i) {
        run[i]->state = read ? BufState::valid : BufState::invalid;
        --m_internal_pins;
        unpin_locked(*run[i]);
    }
    if (!read && run.size() > 1) {
        m_io_done.notify_all();
        lk.unlock();
        read = read_blocks(std::span(run.data(), 1));
        lk.lock();
    }
    first.state = read ? BufState::valid : BufState::invalid;
    m_io_done.notify_all();
    if (!read) {
        unpin_locked(first);
        return std::move(read).error();
    }
    return make_ref(first);
}

// The blocks of `run` are consecutive; they are read in one request, into a staging area when
// there are several. Called without m_mutex: the buffers are `loading`, so nobody else touches
// their bytes.
Result<void> BufferCache::read_blocks(std::span<CacheBuf* const> run) {
    const std::uint64_t first = run.front()->block;
    if (run.size() == 1)
        return read_device(first, {run.front()->bytes.get(), m_block_size});
    const std::size_t bytes = run.size() * m_block_size;
    auto staging = block_memory(bytes);
    UKFS_TRY(read_device(first, {staging.get(), bytes}));
    for (std::size_t i = 0; i < run.size(); ++i)
        std::memcpy(run[i]->bytes.get(), staging.get() + i * m_block_size, m_block_size);
    return {};
}

// Blocks after `block` to read in the same request: up to m_read_ahead of them, stopping at the
// end of the device, at the first block already cached (or being read), and where room would
// need a write-back: read-ahead never writes and never waits.
void BufferCache::plan_read_ahead_locked(std::uint64_t block, std::vector<CacheBuf*>& run) {
    for (std::uint32_t i = 1; i <= m_read_ahead; ++i) {
        const std::uint64_t next = block + i;
        if (next >= m_block_count || m_table.contains(next) || !try_room_locked())
            break;
        run.push_back(&insert_locked(next));
        ++m_internal_pins;
    }
    m_counters.read_ahead_blocks.fetch_add(run.size() - 1, std::memory_order_relaxed);
}

// ------------------------------------------------------------------------------ room

// Drop clean, unpinned buffers from the cold end of the LRU list until one more buffer fits.
// False when the coldest buffer is dirty (or owes frozen copies) or nothing is unpinned.
bool BufferCache::try_room_locked() {
    while (m_used_bytes + m_block_size > m_budget_bytes) {
        CacheBuf* victim = m_lru_tail;
        if (victim == nullptr || victim->dirty || !victim->frozen.empty())
            return false;
        lru_remove(*victim);
        drop_locked(*victim);
        m_counters.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
}

// Room for one more buffer: true when there is room now. False means m_mutex was dropped (to
// write back, or to wait) and the caller must look its block up again. The coldest buffer, if
// dirty, is written back together with everything of earlier epochs (write ordering); buffers
// held only by the cache's own transfers are waited for, since they come free without anyone
// releasing a BufRef; frozen copies are written out when nothing else can be freed. ENOMEM
// when BufRefs hold the whole budget.
Result<bool> BufferCache::make_room_locked(std::unique_lock<std::mutex>& lk) {
    if (try_room_locked())
        return true;
    if (const CacheBuf* victim = m_lru_tail) {
        const std::uint64_t epoch = victim->dirty ? victim->epoch : victim->frozen.back().epoch;
        return write_back_for_room(lk, epoch);
    }
    if (m_internal_pins > 0) {
        m_io_done.wait(lk, [&] { return m_lru_tail != nullptr || m_internal_pins == 0; });
        return false;
    }
    if (m_frozen_count > 0)  // all frozen copies belong to epochs before the current one
        return write_back_for_room(lk, m_epoch - 1);
    return Error::sys(ENOMEM, fmt::format("buffer cache: all {} buffers of {} bytes are in use "
                                          "(budget {} bytes)",
                                          m_table.size(), m_block_size, m_budget_bytes));
}

Result<bool> BufferCache::write_back_for_room(std::unique_lock<std::mutex>& lk,
                                              std::uint64_t last_epoch) {
    lk.unlock();
    Result<void> written = write_back(last_epoch, false);
    lk.lock();
    if (!written)
        return std::move(written).error();
    return false;
}

// A new buffer, `loading` and pinned once by the caller.
CacheBuf& BufferCache::insert_locked(std::uint64_t block) {
    auto buf = std::make_unique<CacheBuf>(block, block_memory(m_block_size));
    buf->pins = 1;
    CacheBuf& ref = *buf;
    m_table.emplace(block, std::move(buf));
    m_used_bytes += m_block_size;
    return ref;
}

// Forget a buffer that is unpinned, off the LRU list, clean and owes no frozen copies.
void BufferCache::drop_locked(CacheBuf& buf) {
    assert(buf.pins == 0 && !buf.dirty && buf.frozen.empty());
    m_used_bytes -= m_block_size;
    m_table.erase(buf.block);
}

// ------------------------------------------------------------------------- pins, LRU

// Invariant: a buffer in m_table is on the LRU list exactly when it is unpinned.
void BufferCache::pin_locked(CacheBuf& buf) {
    if (buf.pins++ == 0)
        lru_remove(buf);
}

void BufferCache::unpin_locked(CacheBuf& buf) {
    assert(buf.pins > 0);
    if (--buf.pins > 0)
        return;
    const bool unwanted =
        buf.state == BufState::invalid || (buf.stale && !buf.dirty && buf.frozen.empty());
    if (unwanted)
        drop_locked(buf);
    else
        lru_push_front(buf);
}

void BufferCache::unpin(CacheBuf& buf) {
    std::lock_guard lk(m_mutex);
    unpin_locked(buf);
}

void BufferCache::lru_push_front(CacheBuf& buf) {
    buf.lru_prev = nullptr;
    buf.lru_next = m_lru_head;
    if (m_lru_head != nullptr)
        m_lru_head->lru_prev = &buf;
    else
        m_lru_tail = &buf;
    m_lru_head = &buf;
}

void BufferCache::lru_remove(CacheBuf& buf) {
    (buf.lru_prev != nullptr ? buf.lru_prev->lru_next : m_lru_head) = buf.lru_next;
    (buf.lru_next != nullptr ? buf.lru_next->lru_prev : m_lru_tail) = buf.lru_prev;
    buf.lru_prev = nullptr;
    buf.lru_next = nullptr;
}

// ------------------------------------------------------------------------- dirtying

void BufferCache::mark_dirty(CacheBuf& buf) {
    std::unique_lock lk(m_mutex);
    make_dirty_locked(lk, buf);
}

// Make `buf` dirty in the current epoch, before its bytes change. A write-back copying it out
// is waited for, so the device never gets half-changed bytes. If it is still dirty from an
// earlier epoch, that content is owed to the device in that epoch, before anything of this
// one: it is kept as a frozen copy under the same dirty key, and the live bytes take a new key.
void BufferCache::make_dirty_locked(std::unique_lock<std::mutex>& lk, CacheBuf& buf) {
    m_io_done.wait(lk, [&] { return !buf.writing; });
    buf.stale = false;
    if (buf.dirty && buf.epoch == m_epoch)
        return;
    if (buf.dirty) {
        auto copy = block_memory(m_block_size);
        std::memcpy(copy.get(), buf.bytes.get(), m_block_size);
        buf.frozen.push_back(FrozenCopy{buf.epoch, std::move(copy)});
        m_used_bytes += m_block_size;  // may overshoot the budget; see "Memory" in the header
        ++m_frozen_count;
    }
    buf.dirty = true;
    buf.epoch = m_epoch;
    m_dirty.emplace(DirtyKey{m_epoch, buf.block}, &buf);
}

void BufferCache::barrier() {
    if (!m_ordered)
        return;
    std::lock_guard lk(m_mutex);
    ++m_epoch;
}

// The buffer may be held, and may be being read in or written out: wait for the transfer, then
// forget its current-epoch dirtiness. An earlier epoch's content (live or frozen) stays owed.
// `stale` drops the buffer at its last unpin once nothing more is owed.
void BufferCache::invalidate(std::uint64_t block) {
    std::unique_lock lk(m_mutex);
    auto it = m_table.find(block);
    if (it == m_table.end())
        return;
    CacheBuf& buf = *it->second;
    pin_locked(buf);
    m_io_done.wait(lk, [&] { return buf.state != BufState::loading && !buf.writing; });
    if (buf.dirty && buf.epoch == m_epoch) {
        m_dirty.erase(DirtyKey{buf.epoch, buf.block});
        buf.dirty = false;
    }
    buf.stale = true;
    unpin_locked(buf);
}

// ------------------------------------------------------------------------------ misc

// The buffers of blocks [first, first + count) in any state, in block order: one lookup per
// block, or one pass over the table when the table is the smaller.
std::vector<CacheBuf*> BufferCache::cached_in_locked(std::uint64_t first, std::uint64_t count) {
    std::vector<CacheBuf*> found;
    if (count <= m_table.size()) {
        for (std::uint64_t block = first; block - first < count; ++block)
            if (auto it = m_table.find(block); it != m_table.end())
                found.push_back(it->second.get());
        return found;
    }
    for (const auto& [block, buf] : m_table)
        if (block >= first && block - first < count)
            found.push_back(buf.get());
    std::sort(found.begin(), found.end(),
              [](const CacheBuf* a, const CacheBuf* b) { return a->block < b->block; });
    return found;
}

CacheStats BufferCache::stats() const {
    CacheStats s;
    s.hits = m_counters.hits.load(std::memory_order_relaxed);
    s.misses = m_counters.misses.load(std::memory_order_relaxed);
    s.read_requests = m_counters.read_requests.load(std::memory_order_relaxed);
    s.bytes_read = m_counters.bytes_read.load(std::memory_order_relaxed);
    s.write_requests = m_counters.write_requests.load(std::memory_order_relaxed);
    s.bytes_written = m_counters.bytes_written.load(std::memory_order_relaxed);
    s.flushes = m_counters.flushes.load(std::memory_order_relaxed);
    s.evictions = m_counters.evictions.load(std::memory_order_relaxed);
    s.read_ahead_blocks = m_counters.read_ahead_blocks.load(std::memory_order_relaxed);
    std::lock_guard lk(m_mutex);
    s.cached_blocks = m_table.size();
    s.dirty_items = m_dirty.size();
    s.used_bytes = m_used_bytes;
    return s;
}

}  // namespace uk::io
