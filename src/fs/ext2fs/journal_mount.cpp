// Recovery at mount: write the replay out in order (read-write), or show it over the untouched
// device (read-only).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/journal.hpp"

namespace uk::ext2fs {

namespace {

// A read-only view of `base` with whole blocks replaced by the replayed ones. Holds at most one
// copy of each block the journal logs, so no more memory than the journal (or the file system)
// is large.
class OverlayDevice final : public io::ReadOnlyView {
public:
    OverlayDevice(std::shared_ptr<io::BlockDevice> base, std::uint32_t block_size,
                  std::map<std::uint64_t, std::vector<std::byte>> blocks)
        : ReadOnlyView(std::move(base), "ext2fs: a read-only mount of a journal needing recovery"),
          m_block_size(block_size), m_blocks(std::move(blocks)) {}

    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override {
        UKFS_TRY(base().read_at(offset, dst));
        if (dst.empty())
            return {};
        const std::uint64_t end = offset + dst.size();
        for (auto it = m_blocks.lower_bound(offset / m_block_size);
             it != m_blocks.end() && it->first * m_block_size < end; ++it) {
            const std::uint64_t from = std::max(offset, it->first * m_block_size);
            const std::uint64_t to = std::min(end, (it->first + 1) * m_block_size);
            std::memcpy(dst.data() + (from - offset),
                        it->second.data() + (from - it->first * m_block_size), to - from);
        }
        return {};
    }

private:
    std::uint32_t m_block_size;
    std::map<std::uint64_t, std::vector<std::byte>> m_blocks;
};

// The ordered write: logged blocks, then the journal reset, then needs_recovery cleared.
Result<void> apply(Ext2Fs& fs, const JournalReplay& r) {
    io::BufferCache& cache = fs.cache();
    const std::uint32_t bs = fs.geometry().block_size;
    for (const auto& [block, bytes] : r.blocks) {
        io::BufRef buf = UKFS_TRY(cache.get_zeroed(block));
        std::memcpy(buf.mark_dirty().data(), bytes.data(), bs);
    }
    if (!r.empty_journal) {
        cache.barrier();  // the replayed blocks reach the device before the journal forgets them
        io::BufRef buf = UKFS_TRY(cache.get(r.super_block));
        reset_journal_super(buf.mark_dirty(), r.next_sequence);
    }
    cache.barrier();  // ... and the journal is empty before the file system says so
    io::BufRef buf = UKFS_TRY(cache.get(superblock_offset / bs));
    std::span<std::byte> bytes = buf.mark_dirty();
    Superblock sb;
    std::memcpy(&sb, bytes.data() + superblock_offset % bs, sizeof sb);
    sb.s_feature_incompat.set(sb.s_feature_incompat.get() & ~incompat_recover);
    if ((sb.s_feature_ro_compat.get() & ro_compat_metadata_csum) != 0)
        sb.s_checksum.set(superblock_checksum(sb));
    std::memcpy(bytes.data() + superblock_offset % bs, &sb, sizeof sb);
    buf.reset();
    return cache.sync();
}

}  // namespace

Result<std::shared_ptr<io::BlockDevice>> recover_journal(std::shared_ptr<io::BlockDevice> dev,
                                                         const Superblock& sb, const Geometry& g,
                                                         bool read_only) {
    const std::uint32_t ino = sb.s_journal_inum.get();
    if (!g.has_compat(compat_has_journal) || ino == 0) {
        if (read_only)
            return dev;  // nothing we could replay: read what is there
        return Error::sys(EROFS, ino == 0 && g.has_compat(compat_has_journal)
                                     ? "ext2fs: the journal needing recovery is external "
                                       "(s_journal_inum 0), which the driver does not replay: "
                                       "run e2fsck"
                                     : "ext2fs: needs_recovery is set but there is no journal: "
                                       "run e2fsck");
    }
    io::CacheOptions options;
    options.budget_bytes = std::max<std::size_t>(std::size_t{4} << 20, 64 * g.block_size);
    auto cache = UKFS_TRY(io::BufferCache::create(dev, g.block_size, options));
    std::vector<GroupInfo> groups = UKFS_TRY(load_groups(g, *cache));
    Ext2Fs fs(g, sb, std::move(cache), std::move(groups), true);
    JournalReplay replay = UKFS_TRY(read_journal(fs, ino));
    if (read_only) {
        if (replay.blocks.empty())
            return dev;
        return std::shared_ptr<io::BlockDevice>(
            std::make_shared<OverlayDevice>(dev, g.block_size, std::move(replay.blocks)));
    }
    UKFS_TRY(apply(fs, replay));
    return dev;
}

}  // namespace uk::ext2fs
