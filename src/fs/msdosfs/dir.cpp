// Directories: the bounded walk over 32-byte entries that joins VFAT long-name runs to their
// short entry (order and checksum checked; a broken run falls back to the short name), name
// lookup, and adding and removing entries. Facts: the Microsoft FAT specification 1.03,
// sections 6 (directory entries) and 7 (long names).
#include <cerrno>
#include <cstring>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "base/bytes.hpp"
#include "fs/msdosfs/node.hpp"

namespace uk::msdosfs {

namespace {

struct Slot {
    std::uint64_t sector;
    std::uint32_t offset;
};

Slot slot_at(const Geometry& g, const std::vector<std::uint64_t>& secs, std::uint32_t i) {
    const std::uint64_t byte = std::uint64_t{i} * dirent_size;
    return {secs[byte >> g.log_sector],
            static_cast<std::uint32_t>(byte & (g.bytes_per_sector - 1))};
}

std::uint32_t slots_in(const Geometry& g, const std::vector<std::uint64_t>& secs) {
    return static_cast<std::uint32_t>(secs.size() * (g.bytes_per_sector / dirent_size));
}

bool is_dot_entry(const DirEntryRaw& raw) {
    return raw.DIR_Name[0] == '.' && (std::memcmp(raw.DIR_Name, ".          ", 11) == 0 ||
                                      std::memcmp(raw.DIR_Name, "..         ", 11) == 0);
}

// Collects a long name from its entries; valid() once every part arrived in order.
class LfnState {
public:
    void reset() {
        m_expect = 0;
        m_count = 0;
    }
    void add(const LfnEntry& e, std::uint32_t slot) {
        const std::uint8_t ord = e.LDIR_Ord;
        const std::uint32_t seq = ord & 0x1F;
        if ((ord & lfn_last) != 0) {
            if (seq == 0 || seq > lfn_max_entries || (ord & 0x80) != 0) {
                reset();
                return;
            }
            m_count = seq;
            m_units.assign(std::size_t{seq} * lfn_chars, 0xFFFF);
            m_sum = e.LDIR_Chksum;
            m_first = slot;
        } else if (m_expect == 0 || seq != m_expect || e.LDIR_Chksum != m_sum) {
            reset();
            return;
        }
        std::uint8_t bytes[26];
        std::memcpy(bytes, e.LDIR_Name1, 10);
        std::memcpy(bytes + 10, e.LDIR_Name2, 12);
        std::memcpy(bytes + 22, e.LDIR_Name3, 4);
        for (std::uint32_t k = 0; k < lfn_chars; ++k)
            m_units[(seq - 1) * lfn_chars + k] =
                static_cast<char16_t>(bytes[2 * k] | (bytes[2 * k + 1] << 8));
        m_expect = seq - 1;
    }
    // The long name for short entry `raw`, when a complete run with its checksum precedes it.
    bool take(const DirEntryRaw& raw, std::string& name, std::uint32_t& first) {
        const bool ok = m_count != 0 && m_expect == 0 && m_sum == short_name_checksum(raw.DIR_Name);
        const std::uint32_t count = m_count;
        reset();
        if (!ok)
            return false;
        std::u16string units(m_units.begin(), m_units.begin() + count * lfn_chars);
        if (const auto end = units.find(u'\0'); end != std::u16string::npos)
            units.resize(end);
        if (units.empty() || units == u"." || units == u"..")
            return false;
        for (char16_t c : units)
            if (c == u'/' || c == 0xFFFF)
                return false;
        if (!utf16_to_utf8(units, name))
            return false;
        first = m_first;
        return true;
    }

private:
    std::uint32_t m_expect = 0, m_count = 0, m_first = 0;
    std::uint8_t m_sum = 0;
    std::u16string m_units;
};

}  // namespace

Result<std::vector<std::uint64_t>> MsdosNode::dir_sectors() {
    const Geometry& g = m_fs.geometry();
    std::vector<std::uint64_t> secs;
    if (fixed_root()) {
        for (std::uint32_t i = 0; i < g.root_dir_sectors; ++i)
            secs.push_back(g.root_dir_sector + i);
        return secs;
    }
    const std::vector<std::uint32_t>* cl = UKFS_TRY(clusters());
    for (std::uint32_t c : *cl)
        for (std::uint32_t i = 0; i < g.sectors_per_cluster; ++i)
            secs.push_back(g.cluster_sector(c) + i);
    return secs;
}

Result<void> MsdosNode::scan(std::uint32_t start,
                             const std::function<bool(const EntryInfo&)>& visit) {
    const Geometry& g = m_fs.geometry();
    const std::vector<std::uint64_t> secs = UKFS_TRY(dir_sectors());
    const std::uint32_t n = slots_in(g, secs);
    const bool long_names = !m_fs.options().nowin95;
    LfnState lfn;
    io::BufRef ref;
    for (std::uint32_t i = start; i < n; ++i) {
        const Slot s = slot_at(g, secs, i);
        if (!ref || ref.block() != s.sector)
            ref = UKFS_TRY(m_fs.sector(s.sector, what() + ": directory"));
        const ByteView view(ref.data(), "msdos: directory");
        const auto raw = UKFS_TRY(view.read<DirEntryRaw>(s.offset));
        if (raw.DIR_Name[0] == dir_end)
            return {};
        if (raw.DIR_Name[0] == dir_free) {
            lfn.reset();
            continue;
        }
        if ((raw.DIR_Attr & attr_long_name_mask) == attr_long_name) {
            if (long_names)
                lfn.add(UKFS_TRY(view.read<LfnEntry>(s.offset)), i);
            continue;
        }
        if ((raw.DIR_Attr & attr_volume_id) != 0 || is_dot_entry(raw)) {
            lfn.reset();
            continue;
        }
        EntryInfo e;
        e.raw = raw;
        e.slot = i;
        e.first_slot = i;
        e.loc = (s.sector << g.log_sector) + s.offset;
        e.short_name = display_short_name(raw);
        if (!lfn.take(raw, e.name, e.first_slot))
            e.name = e.short_name;
        if (e.name.empty())
            continue;
        if (!visit(e))
            return {};
    }
    return {};
}

Result<std::optional<EntryInfo>> MsdosNode::find(std::string_view name) {
    std::optional<EntryInfo> found;
    UKFS_TRY(scan(0, [&](const EntryInfo& e) {
        if (names_equal(e.name, name) || names_equal(e.short_name, name)) {
            found = e;
            return false;
        }
        return true;
    }));
    return found;
}

Result<bool> MsdosNode::is_empty_dir() {
    bool empty = true;
    UKFS_TRY(scan(0, [&](const EntryInfo&) {
        empty = false;
        return false;
    }));
    return empty;
}

Result<void> MsdosNode::extend_dir() {
    const Geometry& g = m_fs.geometry();
    if (fixed_root())
        return Error::sys(ENOSPC, "msdos: the root directory is full");
    const std::vector<std::uint32_t>* cl = UKFS_TRY(clusters());
    if ((cl->size() + 1) * std::uint64_t{g.cluster_bytes} >
        std::uint64_t{max_dir_entries} * dirent_size)
        return Error::sys(ENOSPC, "msdos: a directory holds at most 65536 entries");
    const std::uint32_t last = cl->empty() ? 0 : cl->back();
    const auto added = UKFS_TRY(m_fs.allocate(last, 1));
    for (std::uint32_t i = 0; i < g.sectors_per_cluster; ++i)
        UKFS_TRY(m_fs.cache().get_zeroed(g.cluster_sector(added[0]) + i));
    std::lock_guard guard(m_chain_lock);
    m_chain.push_back(added[0]);
    return reclaim_chain();
}

Result<EntryInfo> MsdosNode::add_entry(std::string_view name, DirEntryRaw raw) {
    const Geometry& g = m_fs.geometry();
    // The short names in use, then the entries the name needs.
    std::set<std::string> taken;
    UKFS_TRY(scan(0, [&](const EntryInfo& e) {
        taken.emplace(std::begin(e.raw.DIR_Name), std::end(e.raw.DIR_Name));
        return true;
    }));
    const NamePlan plan =
        UKFS_TRY(plan_name(name, m_fs.options().shortname, [&](const std::uint8_t(&n)[11]) {
            return taken.count(std::string(std::begin(n), std::end(n))) != 0;
        }));
    std::memcpy(raw.DIR_Name, plan.short_name, 11);
    raw.DIR_NTRes = plan.ntres;
    const std::uint32_t lfn_count =
        plan.needs_lfn
            ? static_cast<std::uint32_t>((plan.long_name.size() + lfn_chars - 1) / lfn_chars)
            : 0;
    const std::uint32_t need = lfn_count + 1;

    for (int attempt = 0; attempt < 2 + static_cast<int>(need); ++attempt) {
        const std::vector<std::uint64_t> secs = UKFS_TRY(dir_sectors());
        const std::uint32_t n = slots_in(g, secs);
        std::uint32_t run = 0, start = 0;
        io::BufRef ref;
        bool ended = false;
        for (std::uint32_t i = 0; i < n && run < need; ++i) {
            const Slot s = slot_at(g, secs, i);
            if (!ended) {
                if (!ref || ref.block() != s.sector)
                    ref = UKFS_TRY(m_fs.sector(s.sector, what() + ": directory"));
                const std::uint8_t first = std::to_integer<std::uint8_t>(ref.data()[s.offset]);
                ended = first == dir_end;
                if (!ended && first != dir_free) {
                    run = 0;
                    continue;
                }
            }
            if (run++ == 0)
                start = i;
        }
        if (run < need) {
            UKFS_TRY(extend_dir());
            continue;
        }
        // Write the long-name entries (last part first) and the short entry.
        const std::uint8_t sum = short_name_checksum(raw.DIR_Name);
        for (std::uint32_t k = 0; k < need; ++k) {
            const Slot s = slot_at(g, secs, start + k);
            io::BufRef b = UKFS_TRY(m_fs.sector(s.sector, what() + ": directory"));
            ByteWriter w(b.mark_dirty(), "msdos: directory");
            if (k + 1 == need) {
                UKFS_TRY(w.write(s.offset, raw));
                break;
            }
            const std::uint32_t seq = lfn_count - k;
            LfnEntry le{};
            le.LDIR_Ord = static_cast<std::uint8_t>(seq | (k == 0 ? lfn_last : 0));
            le.LDIR_Attr = attr_long_name;
            le.LDIR_Chksum = sum;
            std::uint8_t bytes[26];
            for (std::uint32_t c = 0; c < lfn_chars; ++c) {
                const std::size_t at = (seq - 1) * lfn_chars + c;
                const char16_t u = at < plan.long_name.size()    ? plan.long_name[at]
                                   : at == plan.long_name.size() ? 0
                                                                 : 0xFFFF;
                bytes[2 * c] = static_cast<std::uint8_t>(u & 0xFF);
                bytes[2 * c + 1] = static_cast<std::uint8_t>(u >> 8);
            }
            std::memcpy(le.LDIR_Name1, bytes, 10);
            std::memcpy(le.LDIR_Name2, bytes + 10, 12);
            std::memcpy(le.LDIR_Name3, bytes + 22, 4);
            UKFS_TRY(w.write(s.offset, le));
        }
        const Slot s = slot_at(g, secs, start + need - 1);
        EntryInfo e;
        e.raw = raw;
        e.first_slot = start;
        e.slot = start + need - 1;
        e.loc = (s.sector << g.log_sector) + s.offset;
        e.name = std::string(name);
        e.short_name = display_short_name(raw);
        return e;
    }
    return Error::sys(ENOSPC, "msdos: no room in the directory");
}

Result<void> MsdosNode::remove_slots(const EntryInfo& e) {
    const Geometry& g = m_fs.geometry();
    const std::vector<std::uint64_t> secs = UKFS_TRY(dir_sectors());
    if (e.slot >= slots_in(g, secs) || e.first_slot > e.slot)
        return Error::corrupt(what(), "directory entry out of range");
    for (std::uint32_t i = e.first_slot; i <= e.slot; ++i) {
        const Slot s = slot_at(g, secs, i);
        io::BufRef b = UKFS_TRY(m_fs.sector(s.sector, what() + ": directory"));
        b.mark_dirty()[s.offset] = std::byte{dir_free};
    }
    return {};
}

Result<void> MsdosNode::set_dotdot(std::uint32_t parent_cluster) {
    const Geometry& g = m_fs.geometry();
    const std::vector<std::uint64_t> secs = UKFS_TRY(dir_sectors());
    if (slots_in(g, secs) < 2)
        return Error::corrupt(what(), "directory has no \"..\" entry");
    const Slot s = slot_at(g, secs, 1);
    io::BufRef b = UKFS_TRY(m_fs.sector(s.sector, what() + ": directory"));
    const ByteView view(b.data(), "msdos: directory");
    auto raw = UKFS_TRY(view.read<DirEntryRaw>(s.offset));
    if (std::memcmp(raw.DIR_Name, "..         ", 11) != 0)
        return Error::corrupt(what(), "second entry is not \"..\"");
    raw.DIR_FstClusLO.set(static_cast<std::uint16_t>(parent_cluster & 0xFFFF));
    raw.DIR_FstClusHI.set(static_cast<std::uint16_t>(parent_cluster >> 16));
    ByteWriter w(b.mark_dirty(), "msdos: directory");
    return w.write(s.offset, raw);
}

}  // namespace uk::msdosfs
