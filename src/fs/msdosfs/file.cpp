// File contents and the node's cluster list: reads and writes through the buffer cache for
// partial sectors and read_direct/write_direct for runs of whole sectors (as ext2fs' data.cpp
// does), extension with zero-filled gaps (FAT has no holes), truncation, and writing the
// entry back. Ordering: clusters are allocated in the FAT and data written before a barrier,
// and only then does the directory entry point at them (size, first cluster).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "fs/msdosfs/node.hpp"

namespace uk::msdosfs {

namespace {

constexpr std::uint64_t max_file_size = 0xFFFFFFFF;

}  // namespace

Result<const std::vector<std::uint32_t>*> MsdosNode::clusters() {
    std::lock_guard guard(m_chain_lock);
    if (!m_chain_loaded) {
        const Geometry& g = m_fs.geometry();
        if (!fixed_root()) {
            std::uint64_t limit = UINT64_MAX;
            if (m_type == VType::dir)
                limit = std::uint64_t{max_dir_entries} * dirent_size / g.cluster_bytes + 1;
            m_chain = UKFS_TRY(m_fs.chain(first_cluster(), what(), limit));
            if (m_type == VType::dir && m_chain.size() >= limit)
                return Error::corrupt(what(), "directory is longer than 65536 entries");
            if (m_type == VType::dir && m_chain.empty())
                return Error::corrupt(what(), "directory has no clusters");
            UKFS_TRY(m_fs.check_links(m_chain, what()));
            if (m_tracked)
                UKFS_TRY(m_fs.claim_chain(m_ino, m_chain, what()));
        }
        m_chain_loaded = true;
    }
    UKFS_TRY(m_fs.check_crossed(m_chain, what()));
    return &m_chain;
}

Result<void> MsdosNode::reclaim_chain() {
    if (!m_tracked || fixed_root())
        return {};
    return m_fs.claim_chain(m_ino, m_chain, what());
}

void MsdosNode::set_first_cluster(std::uint32_t c) {
    m_raw.DIR_FstClusLO.set(static_cast<std::uint16_t>(c & 0xFFFF));
    m_raw.DIR_FstClusHI.set(static_cast<std::uint16_t>(c >> 16));
}

Result<void> MsdosNode::store_entry() {
    if (is_root() || m_unlinked)
        return {};  // no entry (the root) or an entry that is gone
    const Geometry& g = m_fs.geometry();
    io::BufRef b = UKFS_TRY(m_fs.sector(m_loc >> g.log_sector, what()));
    ByteWriter w(b.mark_dirty(), "msdos: directory entry");
    return w.write(m_loc & (g.bytes_per_sector - 1), m_raw);
}

Result<void> MsdosNode::release() {
    if (!m_unlinked || m_fs.read_only() || first_cluster() == 0)
        return {};
    UKFS_TRY(clusters());  // a cross-linked chain is never freed
    m_fs.cache().barrier();
    UKFS_TRY(m_fs.free_chain(first_cluster()));
    set_first_cluster(0);
    std::lock_guard guard(m_chain_lock);
    m_chain.clear();
    m_fs.unclaim_chain(m_ino);
    return {};
}

Result<std::size_t> MsdosNode::read(std::uint64_t offset, std::span<std::byte> dst) {
    if (m_type == VType::dir)
        return Error::sys(EISDIR);
    const std::uint64_t size = m_raw.DIR_FileSize.get();
    if (offset >= size || dst.empty())
        return std::size_t{0};
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(), size - offset));
    const Geometry& g = m_fs.geometry();
    const auto* cl = UKFS_TRY(clusters());
    const std::uint64_t need = (size + g.cluster_bytes - 1) / g.cluster_bytes;
    if (cl->size() < need)
        return Error::corrupt(what(), fmt::format("file size {} needs {} clusters, the chain "
                                                  "has {}",
                                                  size, need, cl->size()));
    std::size_t done = 0;
    while (done < n) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t ci = pos / g.cluster_bytes;
        const std::uint64_t in = pos % g.cluster_bytes;
        // The run of physically consecutive clusters from ci.
        std::uint64_t run = 1;
        while (ci + run < cl->size() && (*cl)[ci + run] == (*cl)[ci] + run &&
               run * g.cluster_bytes < n - done + in)
            ++run;
        const std::uint64_t sector = g.cluster_sector((*cl)[ci]) + (in >> g.log_sector);
        const std::uint64_t in_sector = in & (g.bytes_per_sector - 1);
        const std::uint64_t room = run * g.cluster_bytes - in;
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, room));
        if (in_sector == 0 && want >= g.bytes_per_sector) {
            const std::size_t whole = want & ~std::size_t{g.bytes_per_sector - 1};
            UKFS_TRY(m_fs.cache().read_direct(sector, dst.subspan(done, whole)));
            done += whole;
            continue;
        }
        const io::BufRef b = UKFS_TRY(m_fs.sector(sector, what() + ": data"));
        const std::size_t take =
            std::min<std::size_t>(want, g.bytes_per_sector - static_cast<std::size_t>(in_sector));
        std::memcpy(dst.data() + done, b.data().data() + in_sector, take);
        done += take;
    }
    return n;
}

Result<void> MsdosNode::grow_chain(std::uint64_t bytes) {
    const Geometry& g = m_fs.geometry();
    const auto* cl = UKFS_TRY(clusters());
    const std::uint64_t need = (bytes + g.cluster_bytes - 1) / g.cluster_bytes;
    if (need <= cl->size())
        return {};
    if (need > g.cluster_count)
        return Error::sys(ENOSPC);
    const std::uint32_t last = cl->empty() ? 0 : cl->back();
    const auto added = UKFS_TRY(m_fs.allocate(last, static_cast<std::uint32_t>(need - cl->size())));
    std::lock_guard guard(m_chain_lock);
    if (m_chain.empty())
        set_first_cluster(added.front());
    m_chain.insert(m_chain.end(), added.begin(), added.end());
    return reclaim_chain();
}

Result<void> MsdosNode::write_bytes(std::uint64_t offset, std::span<const std::byte> src) {
    const Geometry& g = m_fs.geometry();
    const auto* cl = UKFS_TRY(clusters());
    std::size_t done = 0;
    while (done < src.size()) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t ci = pos / g.cluster_bytes;
        const std::uint64_t in = pos % g.cluster_bytes;
        std::uint64_t run = 1;
        while (ci + run < cl->size() && (*cl)[ci + run] == (*cl)[ci] + run &&
               run * g.cluster_bytes < src.size() - done + in)
            ++run;
        const std::uint64_t sector = g.cluster_sector((*cl)[ci]) + (in >> g.log_sector);
        const std::uint64_t in_sector = in & (g.bytes_per_sector - 1);
        const std::uint64_t room = run * g.cluster_bytes - in;
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(src.size() - done, room));
        if (in_sector == 0 && want >= g.bytes_per_sector) {
            const std::size_t whole = want & ~std::size_t{g.bytes_per_sector - 1};
            UKFS_TRY(m_fs.cache().write_direct(sector, src.subspan(done, whole)));
            done += whole;
            continue;
        }
        io::BufRef b = UKFS_TRY(m_fs.sector(sector, what() + ": data"));
        const std::size_t take =
            std::min<std::size_t>(want, g.bytes_per_sector - static_cast<std::size_t>(in_sector));
        std::memcpy(b.mark_dirty().data() + in_sector, src.data() + done, take);
        done += take;
    }
    return {};
}

Result<void> MsdosNode::write_zeros(std::uint64_t from, std::uint64_t to) {
    UKFS_TRY(grow_chain(to));
    const std::vector<std::byte> zeros(std::size_t{64} << 10);
    while (from < to) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(to - from, zeros.size()));
        UKFS_TRY(write_bytes(from, std::span(zeros).first(n)));
        from += n;
    }
    return {};
}

Result<std::size_t> MsdosNode::write(std::uint64_t offset, std::span<const std::byte> src) {
    if (m_type == VType::dir)
        return Error::sys(EISDIR);
    if (m_fs.read_only())
        return Error::sys(EROFS);
    if (src.empty())
        return std::size_t{0};
    if (offset > max_file_size || src.size() > max_file_size - offset)
        return Error::sys(EFBIG, "msdos: a file holds at most 4 GiB - 1 bytes");
    const std::uint64_t size = m_raw.DIR_FileSize.get();
    const std::uint64_t end = offset + src.size();
    if (offset > size)
        UKFS_TRY(write_zeros(size, offset));
    UKFS_TRY(grow_chain(end));
    UKFS_TRY(write_bytes(offset, src));
    m_fs.cache().barrier();
    if (end > size)
        m_raw.DIR_FileSize.set(static_cast<std::uint32_t>(end));
    touch_mtime();
    UKFS_TRY(store_entry());
    return src.size();
}

Result<void> MsdosNode::resize(std::uint64_t size) {
    if (size > max_file_size)
        return Error::sys(EFBIG, "msdos: a file holds at most 4 GiB - 1 bytes");
    const Geometry& g = m_fs.geometry();
    const std::uint64_t old = m_raw.DIR_FileSize.get();
    if (size > old) {
        UKFS_TRY(write_zeros(old, size));
        m_fs.cache().barrier();
        m_raw.DIR_FileSize.set(static_cast<std::uint32_t>(size));
        return store_entry();
    }
    const auto* cl = UKFS_TRY(clusters());
    const std::uint64_t keep = (size + g.cluster_bytes - 1) / g.cluster_bytes;
    m_raw.DIR_FileSize.set(static_cast<std::uint32_t>(size));
    if (keep >= cl->size())
        return store_entry();
    // The entry stops pointing at the clusters before they are freed.
    const std::uint32_t cut = (*cl)[keep];
    if (keep == 0) {
        set_first_cluster(0);
        UKFS_TRY(store_entry());
        m_fs.cache().barrier();
    } else {
        UKFS_TRY(store_entry());
        UKFS_TRY(m_fs.fat_set((*cl)[keep - 1], g.eoc()));
    }
    UKFS_TRY(m_fs.free_chain(cut));
    std::lock_guard guard(m_chain_lock);
    m_chain.resize(keep);
    return reclaim_chain();
}

}  // namespace uk::msdosfs
