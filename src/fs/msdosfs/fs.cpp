// Mount and unmount, the dirty bit and FSInfo, inode numbers, times and statfs. Facts: the
// Microsoft FAT specification 1.03 (FSInfo, FAT[1] flags, date and time formats); mount
// options and their defaults after NetBSD's msdosfs_vfsops.c and mount_msdos(8).
#include "fs/msdosfs/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <ukfs/netbsd.h>

#include "base/bytes.hpp"
#include "fs/msdosfs/node.hpp"

namespace uk::msdosfs {

namespace {

constexpr std::size_t min_cache_sectors = 256;

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

Options parse_args(const vfs::MountRequest& req) {
    Options o;
    // Without arguments, times are in the host's local time, as mount_msdos(8) passes it.
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    if (localtime_r(&t, &tm) != nullptr)
        o.gmtoff = static_cast<int>(tm.tm_gmtoff);
    if (req.args == nullptr || req.args_len < offsetof(msdosfs_args, version))
        return o;
    msdosfs_args a{};
    std::memcpy(&a, req.args, std::min(req.args_len, sizeof a));
    o.uid = a.uid;
    o.gid = a.gid;
    o.mask = a.mask & 0777;
    o.dirmask = o.mask;
    o.shortname = (a.flags & MSDOSFSMNT_SHORTNAME) != 0;
    o.nowin95 = (a.flags & MSDOSFSMNT_NOWIN95) != 0;
    const bool versioned = (a.flags & MSDOSFSMNT_VERSIONED) != 0 &&
                           req.args_len >= offsetof(msdosfs_args, dirmask) + sizeof a.dirmask;
    if (versioned && a.version >= 2)
        o.dirmask = a.dirmask & 0777;
    if (versioned && a.version >= 3 && req.args_len >= sizeof a)
        o.gmtoff = a.gmtoff;
    return o;
}

}  // namespace

Msdosfs::Msdosfs(const Geometry& g, std::unique_ptr<io::BufferCache> cache, const Options& o,
                 bool read_only)
    : m_geometry(g), m_cache(std::move(cache)), m_options(o), m_read_only(read_only) {}

Result<io::BufRef> Msdosfs::sector(std::uint64_t s, std::string_view what) {
    if (s >= m_geometry.total_sectors)
        return Error::corrupt(fmt::format("msdos: {}", what),
                              fmt::format("sector {} is past the volume's {} sectors", s,
                                          m_geometry.total_sectors));
    return m_cache->get(s);
}

// ---- inode numbers (see fs.hpp) ----

InodeNo Msdosfs::ino_for(std::uint64_t loc) {
    std::lock_guard guard(m_ino_lock);
    if (auto it = m_loc_to_ino.find(loc); it != m_loc_to_ino.end())
        return it->second;
    return loc;
}

std::optional<std::uint64_t> Msdosfs::loc_of(InodeNo ino) {
    std::lock_guard guard(m_ino_lock);
    if (auto it = m_ino_to_loc.find(ino); it != m_ino_to_loc.end()) {
        if (it->second == dead_loc)
            return std::nullopt;
        return it->second;
    }
    if (m_loc_to_ino.count(ino) != 0)
        return std::nullopt;  // that location now carries another number
    return ino;
}

InodeNo Msdosfs::assign_ino(std::uint64_t loc) {
    std::lock_guard guard(m_ino_lock);
    m_loc_to_ino.erase(loc);
    if (m_ino_to_loc.count(loc) == 0)
        return loc;
    const InodeNo ino = m_next_synthetic++;
    m_loc_to_ino[loc] = ino;
    m_ino_to_loc[ino] = loc;
    return ino;
}

void Msdosfs::moved(InodeNo ino, std::uint64_t old_loc, std::uint64_t new_loc) {
    std::lock_guard guard(m_ino_lock);
    m_loc_to_ino.erase(old_loc);
    m_loc_to_ino[new_loc] = ino;
    m_ino_to_loc[ino] = new_loc;
}

void Msdosfs::unlinked(InodeNo ino, std::uint64_t loc) {
    std::lock_guard guard(m_ino_lock);
    m_loc_to_ino.erase(loc);
    m_ino_to_loc[ino] = dead_loc;  // reserved until reclaim
}

// ---- times ----

timespec Msdosfs::from_dos(std::uint16_t date, std::uint16_t time16, std::uint8_t tenth) const {
    const unsigned time = time16;
    if (date == 0)
        return {0, 0};
    const unsigned month = std::clamp((date >> 5) & 15u, 1u, 12u);
    const unsigned day = std::clamp(date & 31u, 1u, 31u);
    const std::int64_t days = days_from_civil(1980 + (date >> 9), month, day);
    const unsigned hour = std::min(time >> 11u, 23u);
    const unsigned minute = std::min((time >> 5u) & 63u, 59u);
    const unsigned second = std::min((time & 31u) * 2u, 58u);
    std::int64_t t = days * 86400 + hour * 3600 + minute * 60 + second - m_options.gmtoff;
    long nsec = 0;
    if (tenth <= 199) {
        t += tenth / 100;
        nsec = static_cast<long>(tenth % 100) * 10'000'000;
    }
    return {static_cast<std::time_t>(t), nsec};
}

void Msdosfs::to_dos(const timespec& ts, std::uint16_t& date, std::uint16_t& time,
                     std::uint8_t* tenth) const {
    constexpr std::int64_t first = 315532800;  // 1980-01-01 00:00:00
    std::int64_t t = static_cast<std::int64_t>(ts.tv_sec) + m_options.gmtoff;
    long nsec = ts.tv_nsec;
    if (t < first) {
        t = first;
        nsec = 0;
    }
    std::int64_t days = t / 86400;
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    if (y > 2107) {
        date = static_cast<std::uint16_t>((127 << 9) | (12 << 5) | 31);
        time = static_cast<std::uint16_t>((23 << 11) | (59 << 5) | 29);
        if (tenth != nullptr)
            *tenth = 199;
        return;
    }
    const auto secs = static_cast<unsigned>(t % 86400);
    date = static_cast<std::uint16_t>(((y - 1980) << 9) | (m << 5) | d);
    time = static_cast<std::uint16_t>(((secs / 3600) << 11) | (((secs / 60) % 60) << 5) |
                                      ((secs % 60) / 2));
    if (tenth != nullptr)
        *tenth = static_cast<std::uint8_t>((secs % 2) * 100 + nsec / 10'000'000);
}

// ---- vnodes ----

Result<std::unique_ptr<vfs::Vnode>> Msdosfs::load(InodeNo ino) {
    if (ino == root_ino) {
        DirEntryRaw raw{};
        raw.DIR_Attr = attr_directory;
        return std::unique_ptr<vfs::Vnode>(std::make_unique<MsdosNode>(*this, ino, 0, raw));
    }
    const auto loc = loc_of(ino);
    if (!loc)
        return Error::sys(ENOENT, fmt::format("msdos: no node {}", ino));
    const Geometry& g = m_geometry;
    const std::uint64_t s = *loc >> g.log_sector;
    const std::uint64_t in = *loc & (g.bytes_per_sector - 1);
    if ((in % dirent_size) != 0 || s < g.root_dir_sector)
        return Error::sys(ENOENT, fmt::format("msdos: no node {}", ino));
    const io::BufRef ref = UKFS_TRY(sector(s, "directory entry"));
    const ByteView view(ref.data(), "msdos: directory entry");
    const auto raw = UKFS_TRY(view.read<DirEntryRaw>(in));
    return std::unique_ptr<vfs::Vnode>(std::make_unique<MsdosNode>(*this, ino, *loc, raw));
}

Result<void> Msdosfs::reclaim(vfs::Vnode& node) {
    auto& n = static_cast<MsdosNode&>(node);
    UKFS_TRY(n.release());
    std::lock_guard guard(m_ino_lock);
    m_ino_to_loc.erase(n.ino());
    return {};
}

Result<vfs::StatFs> Msdosfs::statfs() {
    vfs::StatFs s;
    s.bsize = m_geometry.cluster_bytes;
    s.iosize = m_geometry.cluster_bytes;
    s.blocks = m_geometry.cluster_count;
    s.bfree = UKFS_TRY(count_free());
    s.bavail = s.bfree;
    s.files = 0;
    s.ffree = 0;
    s.namemax = name_max;
    return s;
}

// ---- FSInfo, the dirty bit, sync ----

Result<void> Msdosfs::write_fsinfo() {
    const Geometry& g = m_geometry;
    if (g.type != FatType::fat32 || g.fsinfo_sector == 0 || !m_free)
        return {};
    io::BufRef ref = UKFS_TRY(sector(g.fsinfo_sector, "FSInfo"));
    const ByteView view(ref.data(), "msdos: FSInfo");
    if (UKFS_TRY(view.read<le32>(fsi_lead_off)).get() != fsi_lead_sig ||
        UKFS_TRY(view.read<le32>(fsi_struc_off)).get() != fsi_struc_sig)
        return {};  // not a valid FSInfo: leave it alone
    le32 free_count, next;
    free_count.set(*m_free);
    next.set(m_next_free);
    ByteWriter w(ref.mark_dirty(), "msdos: FSInfo");
    UKFS_TRY(w.write(fsi_free_off, free_count));
    UKFS_TRY(w.write(fsi_next_off, next));
    return {};
}

// The order: FAT[1]'s clean bit cleared and on the device before any other change, so a
// crash leaves a volume marked as needing a check.
Result<void> Msdosfs::mark_dirty_bit() {
    if (m_read_only || m_dirty_marked)
        return {};
    const Geometry& g = m_geometry;
    if (g.type != FatType::fat12) {
        const std::uint32_t bit = g.type == FatType::fat16 ? fat16_clean : fat32_clean;
        m_was_clean = (UKFS_TRY(fat_get(1)) & bit) != 0;
        UKFS_TRY(set_clean_bit(false));
        UKFS_TRY(m_cache->sync());
        m_cache->barrier();
    }
    m_dirty_marked = true;
    return {};
}

Result<void> Msdosfs::sync() {
    if (m_read_only)
        return {};
    UKFS_TRY(write_fsinfo());
    return m_cache->sync();
}

Result<void> Msdosfs::unmount() {
    if (m_read_only)
        return {};
    UKFS_TRY(write_fsinfo());
    m_cache->barrier();
    if (m_dirty_marked && m_was_clean) {
        UKFS_TRY(m_cache->sync());
        m_cache->barrier();
        UKFS_TRY(set_clean_bit(true));
    }
    return m_cache->sync();
}

Result<std::unique_ptr<vfs::FileSystem>> mount_msdos(const vfs::MountRequest& req) {
    if (!req.device)
        return Error::sys(EINVAL, "msdos: a device is needed");
    io::BlockDevice& dev = *req.device;
    std::vector<std::byte> boot(bpb_min_bytes);
    if (dev.size() < boot.size())
        return Error::not_this_fs("msdos: the device is smaller than a boot sector");
    UKFS_TRY(dev.read_at(0, boot));
    const Geometry g = UKFS_TRY(parse_boot_sector(boot, dev.size()));
    const bool ro = req.read_only() || dev.read_only();
    io::CacheOptions co;
    co.budget_bytes = std::max(req.cache_budget, min_cache_sectors * g.bytes_per_sector);
    co.read_ahead_blocks = 16;
    co.ordered = req.ordered_writes();
    auto cache = UKFS_TRY(io::BufferCache::create(req.device, g.bytes_per_sector, co));
    auto fs = std::make_unique<Msdosfs>(g, std::move(cache), parse_args(req), ro);
    fs->set_clock(req.clock);
    if (g.type == FatType::fat32)
        UKFS_TRY(fs->chain(g.root_cluster, "msdos: root directory"));
    if (!ro) {
        // The FSInfo free count is a hint; an exact one is computed, and written back.
        UKFS_TRY(fs->count_free());
        UKFS_TRY(fs->mark_dirty_bit());
    }
    return std::unique_ptr<vfs::FileSystem>(std::move(fs));
}

}  // namespace uk::msdosfs
