// Buffer cache: the flush path (the epoch writer, coalesced runs, the single exit to the device),
// sync(), and the direct transfers that keep large file data out of the cache. See "Write
// ordering" and "The flush path" in buffer_cache.hpp.
#include <algorithm>
#include <cassert>
#include <cstring>

#include <fmt/format.h>

#include "io/cache/buffer_cache.hpp"
#include "io/cache/cache_buf.hpp"

namespace uk::io {

// One dirty item taken by the epoch writer: a buffer's live bytes, or one of its frozen copies.
// The buffer is not pinned, so that writing it back does not change its place in the LRU
// list; it cannot go away meanwhile, since only a clean buffer without frozen copies is ever
// dropped, and only complete_locked() makes an item clean (invalidate() and mark_dirty() wait
// while live bytes are `writing`; write_direct() holds m_flush_mutex).
struct BufferCache::WriteItem {
    CacheBuf* buf;
    std::uint64_t epoch;
    std::uint64_t block;
    const std::byte* bytes;
    bool live;
};

namespace {

// The frozen copy of `epoch`: the oldest one, as the epoch writer goes oldest epoch first.
const std::byte* frozen_bytes(const CacheBuf& buf, std::uint64_t epoch) {
    if (!buf.frozen.empty() && buf.frozen.front().epoch == epoch)
        return buf.frozen.front().bytes.get();
    auto it = std::find_if(buf.frozen.begin(), buf.frozen.end(),
                           [&](const FrozenCopy& f) { return f.epoch == epoch; });
    assert(it != buf.frozen.end());
    return it->bytes.get();
}

}  // namespace

// ------------------------------------------------------------------------ epoch writer

Result<void> BufferCache::write_back(std::uint64_t last_epoch, bool include_held) {
    std::lock_guard flush_lock(m_flush_mutex);
    return write_back_held(last_epoch, include_held);
}

// Write every dirty item of the epochs up to `last_epoch`, oldest epoch first; with
// `include_held` false, live bytes that a BufRef holds in the current epoch are left alone (see
// select_locked()). Each pass takes one epoch's items under m_mutex, drops it, writes them, and
// settles them under m_mutex again. The cursor only moves forward, and nothing of an epoch
// behind it can appear meanwhile: new changes carry the current epoch, and a frozen copy keeps
// the key its live bytes had. Since emit() flushes the device before the first write of a later
// epoch, this loop is the whole of the ordering guarantee.
Result<void> BufferCache::write_back_held(std::uint64_t last_epoch, bool include_held) {
    std::uint64_t from_epoch = 0;
    for (;;) {
        std::vector<WriteItem> items;
        {
            std::lock_guard lk(m_mutex);
            items = select_locked(from_epoch, last_epoch, include_held);
        }
        if (items.empty())
            return {};
        std::size_t written = 0;
        Result<void> result = write_items(items, written);
        {
            std::lock_guard lk(m_mutex);
            complete_locked(items, written);
        }
        if (!result)
            return result;
    }
}

// The items of the first epoch in [from_epoch, last_epoch] that has anything to write, in
// block order, live ones marked `writing`; from_epoch moves past it. Live bytes of the current epoch that a BufRef
// holds may be changing right now (the mount lock lets a writer change them while a reader's
// get() evicts): only sync(), whose caller guarantees quiescence, writes them. Every other
// item is safe: frozen copies never change, and live bytes of an earlier epoch can only change
// after mark_dirty(), which waits for `writing` to clear and then moves them to a new key.
std::vector<BufferCache::WriteItem> BufferCache::select_locked(std::uint64_t& from_epoch,
                                                               std::uint64_t last_epoch,
                                                               bool include_held) {
    std::vector<WriteItem> items;
    auto it = m_dirty.lower_bound(DirtyKey{from_epoch, 0});
    while (items.empty() && it != m_dirty.end() && it->first.epoch <= last_epoch) {
        const std::uint64_t epoch = it->first.epoch;
        for (; it != m_dirty.end() && it->first.epoch == epoch; ++it) {
            CacheBuf& buf = *it->second;
            const bool live = buf.dirty && buf.epoch == epoch;
            if (live && !include_held && buf.pins > 0 && epoch == m_epoch)
                continue;
            items.push_back({&buf, epoch, buf.block,
                             live ? buf.bytes.get() : frozen_bytes(buf, epoch), live});
        }
        from_epoch = epoch + 1;
    }
    for (const WriteItem& item : items)
        if (item.live)
            item.buf->writing = true;
    return items;
}

// The items (one epoch, block order) as runs of consecutive blocks, each run one request of at
// most m_max_write_bytes, assembled in m_staging (a lone block goes out from its own bytes).
// Called with m_flush_mutex held, without m_mutex. `written` counts the leading items that
// reached the device.
Result<void> BufferCache::write_items(std::span<const WriteItem> items, std::size_t& written) {
    const std::size_t per_run = m_max_write_bytes / m_block_size;
    std::size_t begin = 0;
    while (begin < items.size()) {
        std::size_t end = begin + 1;
        while (end < items.size() && end - begin < per_run &&
               items[end].block == items[end - 1].block + 1)
            ++end;
        std::span<const std::byte> bytes{items[begin].bytes, m_block_size};
        if (end - begin > 1) {
            m_staging.resize(m_max_write_bytes);
            for (std::size_t k = begin; k < end; ++k)
                std::memcpy(m_staging.data() + (k - begin) * m_block_size, items[k].bytes,
                            m_block_size);
            bytes = {m_staging.data(), (end - begin) * m_block_size};
        }
        UKFS_TRY(emit(items[begin].epoch, items[begin].block, bytes));
        written = end;
        begin = end;
    }
    return {};
}

// Settle a pass: items that reached the device leave the dirty set (a frozen copy is freed),
// the rest stay dirty for the next sync() to retry. A stale buffer nobody holds goes now.
void BufferCache::complete_locked(std::span<const WriteItem> items, std::size_t written) {
    for (std::size_t k = 0; k < items.size(); ++k) {
        const WriteItem& item = items[k];
        CacheBuf& buf = *item.buf;
        if (k < written) {
            m_dirty.erase(DirtyKey{item.epoch, item.block});
            if (item.live)
                buf.dirty = false;
            else
                drop_frozen_locked(buf, item.epoch);
        }
        if (item.live)
            buf.writing = false;
        if (buf.pins == 0 && buf.stale && !buf.dirty && buf.frozen.empty()) {
            lru_remove(buf);
            drop_locked(buf);
        }
    }
    m_io_done.notify_all();
}

void BufferCache::drop_frozen_locked(CacheBuf& buf, std::uint64_t epoch) {
    if (!buf.frozen.empty() && buf.frozen.front().epoch == epoch)
        buf.frozen.pop_front();
    else
        std::erase_if(buf.frozen, [&](const FrozenCopy& f) { return f.epoch == epoch; });
    m_used_bytes -= m_block_size;
    --m_frozen_count;
}

// ------------------------------------------------------------- the single exit, sync

// THE way out: every write the cache makes passes here, and every device flush through
// flush_device() (see "The flush path" in the header; a redo log hooks in here). `bytes` carry
// content of `epoch`; unflushed writes of an earlier epoch are flushed before them. The epoch
// writer and write_direct() only ever call this with non-decreasing epochs, so the unflushed
// writes are all of one epoch, m_unflushed_epoch. Called with m_flush_mutex held, without
// m_mutex.
Result<void> BufferCache::emit(std::uint64_t epoch, std::uint64_t first_block,
                               std::span<const std::byte> bytes) {
    const std::uint64_t count = bytes.size() / m_block_size;
    if (m_device->read_only())
        return Error::sys(EROFS, fmt::format("buffer cache: cannot write {} dirty block(s) from "
                                             "block {}: {} is read-only",
                                             count, first_block, m_device->name()));
    if (m_unflushed && m_unflushed_epoch < epoch)
        UKFS_TRY(flush_device());
    m_unflushed = true;
    m_unflushed_epoch = std::max(m_unflushed_epoch, epoch);
    m_counters.write_requests.fetch_add(1, std::memory_order_relaxed);
    Result<void> result = m_device->write_at(first_block * m_block_size, bytes);
    if (!result)
        return std::move(result.error().context(
            fmt::format("buffer cache: writing {} block(s) from block {}: ", count, first_block)));
    m_counters.bytes_written.fetch_add(bytes.size(), std::memory_order_relaxed);
    return {};
}

Result<void> BufferCache::flush_device() {
    m_counters.flushes.fetch_add(1, std::memory_order_relaxed);
    Result<void> result = m_device->flush();
    if (!result)
        return std::move(result.error().context("buffer cache: flush: "));
    m_unflushed = false;
    return {};
}

Result<void> BufferCache::sync() {
    std::lock_guard flush_lock(m_flush_mutex);
    UKFS_TRY(write_back_held(UINT64_MAX, true));
    if (m_unflushed)
        UKFS_TRY(flush_device());
    return {};
}

// ------------------------------------------------------------------ direct transfers

Result<void> BufferCache::read_device(std::uint64_t first_block, std::span<std::byte> dst) {
    m_counters.read_requests.fetch_add(1, std::memory_order_relaxed);
    Result<void> result = m_device->read_at(first_block * m_block_size, dst);
    if (!result)
        return std::move(result.error().context(fmt::format(
            "buffer cache: reading {} block(s) from block {}: ", dst.size() / m_block_size,
            first_block)));
    m_counters.bytes_read.fetch_add(dst.size(), std::memory_order_relaxed);
    return {};
}

// Cached blocks are pinned under m_mutex and copied without it; the gaps between them are read
// from the device straight into dst, one request per gap. A block being read in by another
// thread counts as a gap: it is not dirty, so the device holds its content.
Result<void> BufferCache::read_direct(std::uint64_t first_block, std::span<std::byte> dst) {
    const std::uint64_t count = UKFS_TRY(whole_blocks(dst.size()));
    UKFS_TRY(check_range(first_block, count));
    std::vector<CacheBuf*> cached;
    {
        std::lock_guard lk(m_mutex);
        cached = cached_in_locked(first_block, count);
        std::erase_if(cached, [](const CacheBuf* b) { return b->state != BufState::valid; });
        for (CacheBuf* buf : cached) {
            pin_locked(*buf);
            ++m_internal_pins;
        }
    }
    const std::size_t bs = m_block_size;
    Result<void> result;
    std::uint64_t next = first_block;  // the first block not yet in dst
    for (const CacheBuf* buf : cached) {
        if (result && buf->block > next)
            result = read_device(next, dst.subspan((next - first_block) * bs,
                                                   (buf->block - next) * bs));
        std::memcpy(dst.data() + (buf->block - first_block) * bs, buf->bytes.get(), bs);
        next = buf->block + 1;
    }
    if (result && next - first_block < count)
        result = read_device(next, dst.subspan((next - first_block) * bs));
    std::lock_guard lk(m_mutex);
    for (CacheBuf* buf : cached) {
        --m_internal_pins;
        unpin_locked(*buf);
    }
    m_io_done.notify_all();
    m_counters.hits.fetch_add(cached.size(), std::memory_order_relaxed);
    m_counters.misses.fetch_add(count - cached.size(), std::memory_order_relaxed);
    return result;
}

// A change made in the current epoch that reaches the device now: every earlier epoch goes
// first (held buffers too: they are all of earlier epochs), then src through emit().
Result<void> BufferCache::write_direct(std::uint64_t first_block,
                                       std::span<const std::byte> src) {
    const std::uint64_t count = UKFS_TRY(whole_blocks(src.size()));
    UKFS_TRY(check_range(first_block, count));
    if (count == 0)
        return {};
    std::lock_guard flush_lock(m_flush_mutex);
    std::uint64_t epoch = 0;
    {
        std::lock_guard lk(m_mutex);
        epoch = m_epoch;
    }
    if (epoch > 0)
        UKFS_TRY(write_back_held(epoch - 1, true));
    UKFS_TRY(emit(epoch, first_block, src));
    update_cached_after_write(first_block, src);
    return {};
}

// The device now holds src: cached copies take it and become clean. A copy still being read in
// would keep what its reader got, old or new, so it is waited for first (under the mount lock
// this does not happen: write_direct's caller holds it exclusively). No write-back runs
// meanwhile: the caller holds m_flush_mutex.
void BufferCache::update_cached_after_write(std::uint64_t first_block,
                                            std::span<const std::byte> src) {
    const std::uint64_t count = src.size() / m_block_size;
    std::unique_lock lk(m_mutex);
    for (;;) {
        std::vector<CacheBuf*> cached = cached_in_locked(first_block, count);
        auto loading = std::find_if(cached.begin(), cached.end(), [](const CacheBuf* b) {
            return b->state == BufState::loading;
        });
        if (loading != cached.end()) {
            CacheBuf& buf = **loading;
            pin_locked(buf);
            m_io_done.wait(lk, [&] { return buf.state != BufState::loading; });
            unpin_locked(buf);
            continue;
        }
        for (CacheBuf* buf : cached) {
            if (buf->state != BufState::valid)
                continue;
            std::memcpy(buf->bytes.get(), src.data() + (buf->block - first_block) * m_block_size,
                        m_block_size);
            if (buf->dirty) {
                m_dirty.erase(DirtyKey{buf->epoch, buf->block});
                buf->dirty = false;
            }
        }
        return;
    }
}

}  // namespace uk::io
