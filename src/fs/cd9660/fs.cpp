// Mount, nodes, statfs (see fs.hpp). Attribute defaults without Rock Ridge follow NetBSD's
// cd9660_defattr: mode r-x for everyone, owner 0:0, one link; times from the record's date.
#include "fs/cd9660/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <ukfs/netbsd.h>

#include "fs/cd9660/vnode.hpp"

namespace uk::cd9660 {

namespace {

constexpr std::size_t min_cache_blocks = 64;

}  // namespace

struct IsoFs::RawRecord {
    std::uint64_t addr = 0;
    std::vector<std::byte> bytes;
    Record rec;
};

std::string Node::what() const { return fmt::format("cd9660: node {}", ino); }

IsoFs::IsoFs(Descriptors vol, std::unique_ptr<io::BufferCache> cache, Tree tree,
             NameRules rules, std::size_t rr_skip, std::vector<std::byte> root_record)
    : m_vol(std::move(vol)), m_cache(std::move(cache)), m_tree(tree), m_rules(rules),
      m_rr_skip(rr_skip), m_root_record(std::move(root_record)) {
    m_root = lba_to_byte(le32_at(m_root_record, dr_extent) +
                         std::uint64_t{u8_at(m_root_record, dr_ext_attr_length)});
}

Result<IsoFs::RawRecord> IsoFs::record_at(std::uint64_t addr, std::string_view what) {
    const std::uint64_t block = addr >> sector_shift;
    const std::size_t off = static_cast<std::size_t>(addr & (sector_size - 1));
    if (block >= m_cache->block_count())
        return Error::corrupt(what, fmt::format("directory record at byte {} is past the end of "
                                                "the image",
                                                addr));
    io::BufRef buf = UKFS_TRY(m_cache->get(block));
    const std::string where = fmt::format("{}: directory record at byte {}", what, addr);
    const Record r = UKFS_TRY(parse_record(buf.data().subspan(off), where));
    RawRecord raw;
    raw.addr = addr;
    raw.bytes.assign(buf.data().begin() + static_cast<std::ptrdiff_t>(off),
                     buf.data().begin() + static_cast<std::ptrdiff_t>(off + r.length));
    raw.rec = UKFS_TRY(parse_record(raw.bytes, where));
    return raw;
}

Result<RockRidge> IsoFs::rock_ridge(const Record& r, std::string_view where) {
    if (m_tree != Tree::rrip)
        return RockRidge{};
    return parse_susp(*m_cache, r.system_use, m_rr_skip, where);
}

// The records after `first` that continue a multi-extent file (9.1.6 bit 7): consecutive
// records of the same name, the next sector when the current one has no room left.
Result<void> IsoFs::add_extents(Node& n, const RawRecord& first) {
    const std::uint64_t blocks = m_cache->block_count();
    auto add = [&](const Record& r, std::uint64_t addr) -> Result<void> {
        // Interleaved recording (9.1.7, 9.1.8) is not supported: refuse rather than misread.
        if (r.unit_size != 0 || r.gap_size != 0)
            return Error::sys(ENOTSUP, fmt::format("{}: interleaved file (unit size {}, gap "
                                                   "{}) is not supported",
                                                   n.what(), r.unit_size, r.gap_size));
        if (r.data_lba() + blocks_for(r.size) > blocks)
            return Error::corrupt(n.what(), fmt::format("the extent of the record at byte {} "
                                                        "(block {}, {} bytes) is past the end "
                                                        "of the image",
                                                        addr, r.extent, r.size));
        n.extents.push_back({r.data_lba(), r.size});
        n.size += r.size;
        return {};
    };
    UKFS_TRY(add(first.rec, first.addr));
    std::uint64_t addr = first.addr;
    std::uint8_t flags = first.rec.flags;
    std::uint8_t len = first.rec.length;
    while ((flags & flag_multi_extent) != 0) {
        if (n.extents.size() >= max_extents)
            return Error::corrupt(n.what(), fmt::format("a file of more than {} extents",
                                                        max_extents));
        std::uint64_t next = addr + len;
        const std::uint64_t in = next & (sector_size - 1);
        // Records do not cross sectors: no room or zero padding means the next sector.
        bool next_sector = in != 0 && in + dr_min_length > sector_size;
        if (in != 0 && !next_sector) {
            io::BufRef buf = UKFS_TRY(m_cache->get(next >> sector_shift));
            next_sector = buf.data()[in] == std::byte{0};
        }
        if (next_sector)
            next = (next | (sector_size - 1)) + 1;
        const RawRecord raw = UKFS_TRY(record_at(next, n.what()));
        const Record& r = raw.rec;
        if (r.is_dir() || r.name.size() != first.rec.name.size() ||
            std::memcmp(r.name.data(), first.rec.name.data(), r.name.size()) != 0)
            return Error::corrupt(n.what(), fmt::format("multi-extent file: the record at byte "
                                                        "{} does not continue it",
                                                        next));
        UKFS_TRY(add(r, next));
        addr = next;
        flags = r.flags;
        len = r.length;
    }
    return {};
}

Result<Node> IsoFs::node_from(const RawRecord& raw, InodeNo ino) {
    const Record& r = raw.rec;
    Node n;
    n.ino = ino;
    n.atime = n.mtime = n.ctime = r.time;
    n.mode = 0555;
    n.nlink = 1;
    if (r.is_dir()) {
        if (!r.is_dot() || lba_to_byte(r.data_lba()) != ino)
            return Error::corrupt(n.what(), "a directory's first record is not a \".\" record "
                                            "pointing to the directory");
        if (r.size == 0 || r.data_lba() + blocks_for(r.size) > m_cache->block_count())
            return Error::corrupt(n.what(), fmt::format("directory extent (block {}, {} bytes) "
                                                        "is empty or past the end of the image",
                                                        r.extent, r.size));
        n.type = VType::dir;
        n.size = r.size;
        n.extents.push_back({r.data_lba(), r.size});
    } else {
        n.type = VType::reg;
        UKFS_TRY(add_extents(n, raw));
    }
    if (m_tree != Tree::rrip)
        return n;
    const RockRidge rr = UKFS_TRY(rock_ridge(r, n.what()));
    if (rr.px) {
        const VType t = vfs::ifmt_to_vtype(rr.mode & S_IFMT);
        if (t == VType::none)
            return Error::corrupt(n.what(), fmt::format("Rock Ridge PX mode {:o} has no valid "
                                                        "file type",
                                                        rr.mode));
        if ((t == VType::dir) != r.is_dir())
            return Error::corrupt(n.what(), "Rock Ridge PX file type disagrees with the "
                                            "directory flag");
        n.type = t;
        n.mode = rr.mode & 07777;
        n.nlink = rr.nlink;
        n.uid = rr.uid;
        n.gid = rr.gid;
    }
    if ((rr.tf & tf_modify) != 0)
        n.mtime = rr.mtime;
    if ((rr.tf & tf_access) != 0)
        n.atime = rr.atime;
    if ((rr.tf & tf_attributes) != 0)
        n.ctime = rr.ctime;
    if ((rr.tf & tf_creation) != 0)
        n.birthtime = rr.birthtime;
    switch (n.type) {
    case VType::lnk:
        if (!rr.sl)
            return Error::corrupt(n.what(), "a Rock Ridge symlink without an SL entry");
        n.symlink = rr.symlink;
        n.size = n.symlink.size();
        n.extents.clear();
        break;
    case VType::chr:
    case VType::blk:
        // libisofs stores the host dev_t in the low word; mkisofs and makefs major and minor.
        n.rdev = rr.dev_high == 0 ? rr.dev_low : makedev(rr.dev_high, rr.dev_low);
        n.size = 0;
        n.extents.clear();
        break;
    case VType::fifo:
    case VType::sock:
        n.size = 0;
        n.extents.clear();
        break;
    default:
        break;
    }
    return n;
}

Result<Node> IsoFs::load_node(InodeNo ino) {
    const std::string what = fmt::format("cd9660: node {}", ino);
    const RawRecord raw = UKFS_TRY(record_at(ino, what));
    return node_from(raw, ino);
}

Result<std::unique_ptr<vfs::Vnode>> IsoFs::load(InodeNo ino) {
    Node n = UKFS_TRY(load_node(ino));
    return std::unique_ptr<vfs::Vnode>(std::make_unique<IsoVnode>(*this, std::move(n)));
}

Result<vfs::StatFs> IsoFs::statfs() {
    vfs::StatFs s;
    s.bsize = sector_size;
    s.iosize = sector_size;
    // The size is absolute (ECMA-119) or, for sessions libisofs appends, counted from the
    // session's start: take whichever covers the session.
    s.blocks = m_vol.space_size > m_vol.session_lba ? m_vol.space_size
                                                    : m_vol.session_lba + m_vol.space_size;
    s.bfree = s.bavail = 0;
    s.files = 0;
    s.ffree = 0;
    s.namemax = 255;  // NetBSD's ISO_MAXNAMLEN, whatever the tree
    return s;
}

Result<std::unique_ptr<vfs::FileSystem>> mount_cd9660(const vfs::MountRequest& req) {
    if (!req.device)
        return Error::sys(EINVAL, "cd9660: a device is needed");
    if (!req.read_only())
        return Error::sys(EROFS, "cd9660: ISO 9660 is read-only: mount with MNT_RDONLY");
    int flags = 0;
    if (req.args != nullptr) {
        if (req.args_len < sizeof(iso_args))
            return Error::sys(EINVAL, fmt::format("cd9660: mount arguments of {} bytes, less "
                                                  "than struct iso_args ({})",
                                                  req.args_len, sizeof(iso_args)));
        std::memcpy(&flags, static_cast<const char*>(req.args) + offsetof(iso_args, flags),
                    sizeof flags);
    }
    io::BlockDevice& dev = *req.device;
    Descriptors vol = UKFS_TRY(read_last_session(dev));

    io::CacheOptions options;
    options.budget_bytes = std::max(req.cache_budget, min_cache_blocks * sector_size);
    auto cache = UKFS_TRY(io::BufferCache::create(req.device, sector_size, options));

    // Rock Ridge: the primary root's "." record starts its System Use with SP (SUSP 5.3), and
    // an ER names RRIP or RRIP entries are there (NetBSD's cd9660_rrip_offset looks the same).
    bool rrip = false;
    std::size_t skip = 0;
    if ((flags & ISOFSMNT_NORRIP) == 0) {
        const std::uint64_t root_lba = le32_at(vol.root, dr_extent) +
                                       std::uint64_t{u8_at(vol.root, dr_ext_attr_length)};
        io::BufRef buf = UKFS_TRY(cache->get(root_lba));
        const std::string where = fmt::format("cd9660: root directory \".\" record at block {}",
                                              root_lba);
        const Record dot = UKFS_TRY(parse_record(buf.data(), where));
        const RockRidge rr = UKFS_TRY(parse_susp(*cache, dot.system_use, 0, where));
        const bool er = std::any_of(rr.er.begin(), rr.er.end(), is_rrip_id);
        if (rr.sp && (er || rr.any_rr)) {
            rrip = true;
            skip = rr.sp_skip;
        }
    }
    NameRules rules;
    Tree tree = Tree::plain;
    std::vector<std::byte> root = vol.root;
    if (rrip) {
        tree = Tree::rrip;
        rules.rr_caseins = (flags & ISOFSMNT_RRCASEINS) != 0;
    } else {
        rules.keep_version = (flags & ISOFSMNT_GENS) != 0;
        rules.casetrans = (flags & ISOFSMNT_NOCASETRANS) == 0;
        if ((flags & ISOFSMNT_NOJOLIET) == 0 && vol.joliet_level != 0) {
            tree = Tree::joliet;
            root = vol.joliet_root;
        }
    }
    auto fs = std::make_unique<IsoFs>(std::move(vol), std::move(cache), tree, rules, skip,
                                      std::move(root));
    const Node r = UKFS_TRY(fs->load_node(fs->root()));
    if (r.type != VType::dir)
        return Error::corrupt("cd9660: root directory", "the root is not a directory");
    return std::unique_ptr<vfs::FileSystem>(std::move(fs));
}

}  // namespace uk::cd9660
