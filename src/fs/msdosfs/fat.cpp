// The File Allocation Table: entry access for FAT12/16/32 (every copy kept identical), checked
// chain walks, allocation and freeing with an exact free count. Facts: the Microsoft FAT
// specification 1.03, section 4 (FAT entries, the reserved FAT[0] and FAT[1]).
#include <algorithm>
#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "fs/msdosfs/fs.hpp"

namespace uk::msdosfs {

namespace {

// The byte offset of FAT entry `c` within one FAT copy.
std::uint64_t entry_offset(const Geometry& g, std::uint32_t c) {
    switch (g.type) {
    case FatType::fat12: return std::uint64_t{c} + c / 2;
    case FatType::fat16: return std::uint64_t{c} * 2;
    case FatType::fat32: break;
    }
    return std::uint64_t{c} * 4;
}

}  // namespace

// One byte of FAT copy `copy` at byte offset `off`.
static Result<std::byte*> fat_byte(Msdosfs& fs, std::uint32_t copy, std::uint64_t off,
                                   io::BufRef& ref, bool dirty) {
    const Geometry& g = fs.geometry();
    const std::uint64_t s =
        g.reserved_sectors + std::uint64_t{copy} * g.fat_sectors + (off >> g.log_sector);
    if (!ref || ref.block() != s)
        ref = UKFS_TRY(fs.sector(s, "FAT"));
    const std::size_t in = static_cast<std::size_t>(off & (g.bytes_per_sector - 1));
    if (dirty)
        return ref.mark_dirty().data() + in;
    return const_cast<std::byte*>(ref.data().data() + in);
}

static Result<std::uint32_t> raw_get(Msdosfs& fs, std::uint32_t copy, std::uint32_t c) {
    const Geometry& g = fs.geometry();
    const std::uint64_t off = entry_offset(g, c);
    io::BufRef ref;
    const unsigned bytes = g.type == FatType::fat32 ? 4 : 2;
    std::uint32_t v = 0;
    for (unsigned i = 0; i < bytes; ++i)  // FAT12 entries may straddle two sectors
        v |= std::to_integer<std::uint32_t>(*UKFS_TRY(fat_byte(fs, copy, off + i, ref, false)))
             << (8 * i);
    if (g.type == FatType::fat12)
        v = (c & 1) != 0 ? v >> 4 : v & 0xFFF;
    return v & g.fat_mask();
}

static Result<void> raw_set(Msdosfs& fs, std::uint32_t copy, std::uint32_t c, std::uint32_t v) {
    const Geometry& g = fs.geometry();
    const std::uint64_t off = entry_offset(g, c);
    io::BufRef ref;
    if (g.type == FatType::fat12) {
        std::byte* b0 = UKFS_TRY(fat_byte(fs, copy, off, ref, true));
        if ((c & 1) != 0)
            *b0 = (*b0 & std::byte{0x0F}) | static_cast<std::byte>((v & 0x0F) << 4);
        else
            *b0 = static_cast<std::byte>(v & 0xFF);
        std::byte* b1 = UKFS_TRY(fat_byte(fs, copy, off + 1, ref, true));
        if ((c & 1) != 0)
            *b1 = static_cast<std::byte>((v >> 4) & 0xFF);
        else
            *b1 = (*b1 & std::byte{0xF0}) | static_cast<std::byte>((v >> 8) & 0x0F);
        return {};
    }
    const unsigned bytes = g.type == FatType::fat32 ? 4 : 2;
    if (g.type == FatType::fat32) {  // the top four bits are reserved: keep them
        std::byte* top = UKFS_TRY(fat_byte(fs, copy, off + 3, ref, false));
        v = (v & 0x0FFFFFFF) | (std::to_integer<std::uint32_t>(*top) & 0xF0) << 24;
    }
    for (unsigned i = 0; i < bytes; ++i)
        *UKFS_TRY(fat_byte(fs, copy, off + i, ref, true)) = static_cast<std::byte>(v >> (8 * i));
    return {};
}

Result<std::uint32_t> Msdosfs::fat_get(std::uint32_t c) {
    return raw_get(*this, m_geometry.active_fat, c);
}

Result<void> Msdosfs::fat_set(std::uint32_t c, std::uint32_t v) {
    if (m_read_only)
        return Error::sys(EROFS);
    if (!m_linked.empty() && m_geometry.valid_cluster(c)) {
        const std::uint32_t old = UKFS_TRY(fat_get(c));
        std::lock_guard guard(m_claim_lock);
        if (m_geometry.valid_cluster(old) && !m_joins.contains(old))
            m_linked[old - first_cluster] = false;
        note_link(v);
    }
    if (!m_geometry.mirrored)
        return raw_set(*this, m_geometry.active_fat, c, v);
    for (std::uint32_t copy = 0; copy < m_geometry.num_fats; ++copy)
        UKFS_TRY(raw_set(*this, copy, c, v));
    return {};
}

Result<std::vector<std::uint32_t>> Msdosfs::chain(std::uint32_t first, std::string_view what,
                                                  std::uint64_t limit) {
    std::vector<std::uint32_t> out;
    if (first == 0 || limit == 0)
        return out;
    const Geometry& g = m_geometry;
    std::uint32_t c = first;
    for (;;) {
        if (!g.valid_cluster(c))
            return Error::corrupt(what, fmt::format("cluster chain leaves the volume: cluster {} "
                                                    "(valid: 2 to {})",
                                                    c, g.cluster_count + 1));
        if (out.size() >= g.cluster_count)
            return Error::corrupt(what, fmt::format("cluster chain from {} loops", first));
        out.push_back(c);
        if (out.size() >= limit)
            return out;
        const std::uint32_t next = UKFS_TRY(fat_get(c));
        if (next >= g.eoc_min())
            return out;
        if (next == fat_free)
            return Error::corrupt(what, fmt::format("cluster chain reaches free cluster {} "
                                                    "after {}",
                                                    next, c));
        if (next == g.bad_cluster())
            return Error::corrupt(what, fmt::format("cluster chain reaches a bad cluster after "
                                                    "{}",
                                                    c));
        c = next;
    }
}

Result<std::uint32_t> Msdosfs::count_free() {
    {
        std::lock_guard guard(m_free_lock);
        if (m_free)
            return *m_free;
    }
    const Geometry& g = m_geometry;
    std::uint32_t n = 0;
    const std::uint64_t end = std::uint64_t{g.cluster_count} + first_cluster;
    // A read-write mount learns the links on the way (see check_links).
    const bool links = !m_read_only && m_linked.empty();
    std::unique_lock claims(m_claim_lock, std::defer_lock);
    if (links) {
        claims.lock();
        m_linked.assign(g.cluster_count, false);
    }
    auto seen = [&](std::uint32_t v) {
        n += v == fat_free ? 1 : 0;
        if (links)
            note_link(v);
    };
    if (g.type == FatType::fat12) {
        for (std::uint32_t c = first_cluster; c < end; ++c)
            seen(UKFS_TRY(fat_get(c)));
    } else {
        // Whole sectors at a time: one cache lookup per sector, not per entry.
        const std::uint32_t width = g.type == FatType::fat32 ? 4 : 2;
        const std::uint32_t per_sector = g.bytes_per_sector / width;
        const std::uint64_t base = g.reserved_sectors + std::uint64_t{g.active_fat} * g.fat_sectors;
        for (std::uint64_t c = first_cluster; c < end;) {
            const io::BufRef ref = UKFS_TRY(sector(base + c / per_sector, "FAT"));
            const auto bytes = ref.data();
            for (; c < end; ++c) {
                const std::size_t off = static_cast<std::size_t>((c % per_sector) * width);
                std::uint32_t v = 0;
                for (std::uint32_t i = 0; i < width; ++i)
                    v |= std::to_integer<std::uint32_t>(bytes[off + i]) << (8 * i);
                seen(v & g.fat_mask());
                if ((c + 1) % per_sector == 0) {
                    ++c;
                    break;
                }
            }
        }
    }
    if (links)
        claims.unlock();
    std::lock_guard guard(m_free_lock);
    m_free = n;
    return n;
}

void Msdosfs::note_link(std::uint32_t target) {
    if (!m_geometry.valid_cluster(target))
        return;
    const std::size_t i = target - first_cluster;
    if (m_linked[i])
        m_joins.insert(target);
    m_linked[i] = true;
}

Result<void> Msdosfs::check_links(std::span<const std::uint32_t> links, std::string_view what) {
    if (links.empty())
        return {};
    std::lock_guard guard(m_claim_lock);
    if (m_linked.empty())
        return {};
    std::string why;
    if (m_linked[links.front() - first_cluster])
        why = fmt::format("another chain links to its first cluster {}", links.front());
    else if (!m_joins.empty())
        for (std::uint32_t c : links)
            if (m_joins.contains(c)) {
                why = fmt::format("two chains link to cluster {}", c);
                break;
            }
    if (why.empty())
        return {};
    m_crossed.insert(links.back());
    m_any_crossed = true;
    return Error::corrupt(
        what, fmt::format("cluster chain from {} is cross-linked: {}", links.front(), why));
}

Result<std::vector<std::uint32_t>> Msdosfs::allocate(std::uint32_t last, std::uint32_t count) {
    std::vector<std::uint32_t> out;
    if (count == 0)
        return out;
    const std::uint32_t free = UKFS_TRY(count_free());
    if (count > free)
        return Error::sys(ENOSPC, fmt::format("msdos: {} clusters wanted, {} free", count, free));
    const Geometry& g = m_geometry;
    std::uint32_t c = g.valid_cluster(m_next_free) ? m_next_free : first_cluster;
    std::uint64_t looked = 0;
    out.reserve(count);
    while (out.size() < count) {
        if (looked++ > g.cluster_count)
            return Error::corrupt("msdos: FAT", "the free count says more clusters are free "
                                                "than the FAT has");
        if (UKFS_TRY(fat_get(c)) == fat_free) {
            // The new cluster ends the chain before the previous one points at it.
            UKFS_TRY(fat_set(c, g.eoc()));
            if (last != 0)
                UKFS_TRY(fat_set(last, c));
            last = c;
            out.push_back(c);
        }
        c = c + 1 < std::uint64_t{g.cluster_count} + first_cluster ? c + 1 : first_cluster;
    }
    m_next_free = c;
    std::lock_guard guard(m_free_lock);
    *m_free -= count;
    return out;
}

Result<void> Msdosfs::claim_chain(InodeNo owner, std::span<const std::uint32_t> links,
                                  std::string_view what) {
    std::optional<Claim> other;
    {
        std::lock_guard guard(m_claim_lock);
        if (auto it = m_claim_of.find(owner); it != m_claim_of.end()) {
            m_claim_by_end.erase(it->second);
            m_claim_of.erase(it);
        }
        if (links.empty())
            return {};
        auto [it, fresh] = m_claim_by_end.try_emplace(links.back(), Claim{owner, links.front()});
        if (fresh) {
            m_claim_of.emplace(owner, links.back());
            return {};
        }
        other = it->second;
        m_crossed.insert(links.back());
        m_any_crossed = true;
    }
    // The first cluster of the other chain that this one holds too: where they meet.
    std::uint32_t shared = links.back();
    if (auto theirs = chain(other->first, "msdos: cross-linked chain")) {
        std::vector<std::uint32_t> mine(links.begin(), links.end());
        std::sort(mine.begin(), mine.end());
        for (std::uint32_t c : *theirs)
            if (std::binary_search(mine.begin(), mine.end(), c)) {
                shared = c;
                break;
            }
    }
    std::string whose = "the root directory";
    if (other->owner != root_ino) {
        const auto loc = loc_of(other->owner);
        whose = loc ? fmt::format("the entry at byte {}", *loc) : "a removed entry";
    }
    return Error::corrupt(what, fmt::format("cluster chain from {} is cross-linked with the "
                                            "chain from {} ({}): both hold cluster {}",
                                            links.front(), other->first, whose, shared));
}

Result<void> Msdosfs::check_crossed(std::span<const std::uint32_t> links, std::string_view what) {
    if (!m_any_crossed || links.empty())
        return {};
    std::lock_guard guard(m_claim_lock);
    if (m_crossed.contains(links.back()))
        return Error::corrupt(what, fmt::format("cluster chain from {} is cross-linked with "
                                                "another: both end at cluster {}",
                                                links.front(), links.back()));
    return {};
}

void Msdosfs::unclaim_chain(InodeNo owner) {
    std::lock_guard guard(m_claim_lock);
    if (auto it = m_claim_of.find(owner); it != m_claim_of.end()) {
        m_claim_by_end.erase(it->second);
        m_claim_of.erase(it);
    }
}

Result<void> Msdosfs::free_chain(std::uint32_t first) {
    const std::vector<std::uint32_t> clusters = UKFS_TRY(chain(first, "msdos: freed chain"));
    if (!clusters.empty()) {  // whoever ended there no longer owns those clusters
        std::lock_guard guard(m_claim_lock);
        if (auto it = m_claim_by_end.find(clusters.back()); it != m_claim_by_end.end()) {
            m_claim_of.erase(it->second.owner);
            m_claim_by_end.erase(it);
        }
    }
    for (std::uint32_t c : clusters)
        UKFS_TRY(fat_set(c, fat_free));
    UKFS_TRY(count_free());
    std::lock_guard guard(m_free_lock);
    *m_free += static_cast<std::uint32_t>(clusters.size());
    return {};
}

Result<void> Msdosfs::set_clean_bit(bool clean) {
    const Geometry& g = m_geometry;
    if (g.type == FatType::fat12)
        return {};
    const std::uint32_t bit = g.type == FatType::fat16 ? fat16_clean : fat32_clean;
    const std::uint32_t v = UKFS_TRY(fat_get(1));
    return fat_set(1, clean ? v | bit : v & ~bit);
}

}  // namespace uk::msdosfs
