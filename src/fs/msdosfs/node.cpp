// msdos vnode operations: attributes as NetBSD's msdosfs maps them (msdosfs_vnops.c: mode from
// the read-only attribute and the mount's masks, owner and group from the mount, SF_ARCHIVED
// for a cleared archive bit, ctime = mtime, nlink 1), lookup and readdir over dir.cpp, and the
// namespace changes. Symlinks, hard links and device nodes: EOPNOTSUPP, as NetBSD says.
#include "fs/msdosfs/node.hpp"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>

#include <fmt/format.h>
#include <ukfs/netbsd.h>

#include "base/bytes.hpp"
#include "base/time.hpp"

namespace uk::msdosfs {

namespace {

VType type_of(const DirEntryRaw& raw) {
    return (raw.DIR_Attr & attr_directory) != 0 ? VType::dir : VType::reg;
}

std::uint32_t cluster_of(const DirEntryRaw& raw, FatType t) {
    const std::uint32_t hi = t == FatType::fat32 ? raw.DIR_FstClusHI.get() : 0;
    return (hi << 16) | raw.DIR_FstClusLO.get();
}

Error not_supported(std::string_view what) {
    return Error::sys(EOPNOTSUPP, fmt::format("msdos: FAT cannot hold {}", what));
}

// A directory reached by cluster only (for ".."): a node without a number of its own.
std::unique_ptr<MsdosNode> dir_by_cluster(Msdosfs& fs, std::uint32_t cluster) {
    DirEntryRaw raw{};
    raw.DIR_Attr = attr_directory;
    const Geometry& g = fs.geometry();
    if (cluster == 0 || (g.type == FatType::fat32 && cluster == g.root_cluster)) {
        auto root = std::make_unique<MsdosNode>(fs, root_ino, 0, raw);
        root->untracked();
        return root;
    }
    raw.DIR_FstClusLO.set(static_cast<std::uint16_t>(cluster & 0xFFFF));
    raw.DIR_FstClusHI.set(static_cast<std::uint16_t>(cluster >> 16));
    auto node = std::make_unique<MsdosNode>(fs, 0, UINT64_MAX, raw);  // a location no entry has
    node->untracked();
    return node;
}

}  // namespace

MsdosNode::MsdosNode(Msdosfs& fs, InodeNo ino, std::uint64_t loc, const DirEntryRaw& raw)
    : m_fs(fs), m_ino(ino), m_type(type_of(raw)), m_loc(loc), m_raw(raw) {}

std::uint32_t MsdosNode::first_cluster() const {
    if (is_root())
        return m_fs.geometry().type == FatType::fat32 ? m_fs.geometry().root_cluster : 0;
    return cluster_of(m_raw, m_fs.geometry().type);
}

std::string MsdosNode::what() const {
    if (is_root())
        return "msdos: root directory";
    return fmt::format("msdos: entry at byte {}", m_loc);
}

Result<vfs::Attr> MsdosNode::getattr() {
    const Geometry& g = m_fs.geometry();
    const Options& o = m_fs.options();
    vfs::Attr a;
    a.type = m_type;
    const std::uint32_t mode = (m_raw.DIR_Attr & attr_read_only) != 0 ? 0555u : 0777u;
    a.mode = mode & (m_type == VType::dir ? o.dirmask : o.mask);
    a.nlink = m_unlinked ? 0 : 1;
    a.uid = o.uid;
    a.gid = o.gid;
    a.ino = m_ino;
    a.blksize = g.cluster_bytes;
    if (m_type == VType::dir) {
        if (fixed_root()) {
            a.size = std::uint64_t{g.root_entries} * dirent_size;
        } else {
            const auto* cl = UKFS_TRY(clusters());
            a.size = cl->size() * std::uint64_t{g.cluster_bytes};
        }
        a.blocks = a.size / 512;
    } else {
        a.size = m_raw.DIR_FileSize.get();
        a.blocks = (a.size + g.cluster_bytes - 1) / g.cluster_bytes * (g.cluster_bytes / 512);
    }
    if (!is_root()) {
        a.mtime = m_fs.from_dos(m_raw.DIR_WrtDate.get(), m_raw.DIR_WrtTime.get(), 0);
        a.atime = m_fs.from_dos(m_raw.DIR_LstAccDate.get(), 0, 0);
        a.birthtime =
            m_fs.from_dos(m_raw.DIR_CrtDate.get(), m_raw.DIR_CrtTime.get(), m_raw.DIR_CrtTimeTenth);
        a.ctime = a.mtime;
        if ((m_raw.DIR_Attr & attr_archive) == 0 && m_type == VType::reg)
            a.flags = SF_ARCHIVED;
    }
    return a;
}

void MsdosNode::touch_mtime() {
    std::uint16_t d, t;
    m_fs.to_dos(m_fs.now(), d, t, nullptr);
    m_raw.DIR_WrtDate.set(d);
    m_raw.DIR_WrtTime.set(t);
    m_raw.DIR_LstAccDate.set(d);
    if (m_type == VType::reg)
        m_raw.DIR_Attr |= attr_archive;
}

Result<void> MsdosNode::setattr(const vfs::SetAttr& c) {
    if (m_fs.read_only())
        return Error::sys(EROFS);
    const Options& o = m_fs.options();
    if (c.flags && (*c.flags & ~std::uint32_t{SF_ARCHIVED}) != 0)
        return Error::sys(EOPNOTSUPP, "msdos: only SF_ARCHIVED can be set");
    if ((c.uid && *c.uid != o.uid) || (c.gid && *c.gid != o.gid))
        return Error::sys(EPERM, "msdos: owner and group are the mount's");
    if (c.size) {
        if (m_type == VType::dir)
            return Error::sys(EISDIR);
        UKFS_TRY(resize(*c.size));
        touch_mtime();
    }
    if (is_root())
        return {};  // the root has no entry to keep anything in
    if (c.mode && m_type == VType::reg) {
        if ((*c.mode & S_IWUSR) != 0)
            m_raw.DIR_Attr &= static_cast<std::uint8_t>(~attr_read_only);
        else
            m_raw.DIR_Attr |= attr_read_only;
    }
    if (c.flags && m_type == VType::reg) {
        if ((*c.flags & SF_ARCHIVED) != 0)
            m_raw.DIR_Attr &= static_cast<std::uint8_t>(~attr_archive);
        else
            m_raw.DIR_Attr |= attr_archive;
    }
    std::uint16_t d, t;
    if (c.mtime) {
        m_fs.to_dos(*c.mtime, d, t, nullptr);
        m_raw.DIR_WrtDate.set(d);
        m_raw.DIR_WrtTime.set(t);
    }
    if (c.atime) {
        m_fs.to_dos(*c.atime, d, t, nullptr);
        m_raw.DIR_LstAccDate.set(d);
    }
    if (c.birthtime) {
        std::uint8_t tenth;
        m_fs.to_dos(*c.birthtime, d, t, &tenth);
        m_raw.DIR_CrtDate.set(d);
        m_raw.DIR_CrtTime.set(t);
        m_raw.DIR_CrtTimeTenth = tenth;
    }
    return store_entry();
}

Result<InodeNo> MsdosNode::lookup(std::string_view name) {
    if (m_type != VType::dir)
        return Error::sys(ENOTDIR);
    if (name.size() > 4 * name_max)
        return Error::sys(ENAMETOOLONG);
    if (name == "..") {
        if (is_root())
            return root_ino;
        // ".." names the parent's cluster; the parent's number is its entry in the
        // grandparent, found by the cluster it starts at.
        const std::vector<std::uint64_t> secs = UKFS_TRY(dir_sectors());
        if (secs.empty())
            return Error::corrupt(what(), "directory has no clusters");
        const io::BufRef b = UKFS_TRY(m_fs.sector(secs[0], what() + ": directory"));
        const auto dotdot = UKFS_TRY(ByteView(b.data(), "msdos: directory").read<DirEntryRaw>(32));
        if (std::memcmp(dotdot.DIR_Name, "..         ", 11) != 0)
            return Error::corrupt(what(), "second entry is not \"..\"");
        const std::uint32_t parent = cluster_of(dotdot, m_fs.geometry().type);
        auto pnode = dir_by_cluster(m_fs, parent);
        if (pnode->is_root())
            return root_ino;
        const auto psecs = UKFS_TRY(pnode->dir_sectors());
        const io::BufRef pb = UKFS_TRY(m_fs.sector(psecs[0], what() + ": parent directory"));
        const auto pdd = UKFS_TRY(ByteView(pb.data(), "msdos: directory").read<DirEntryRaw>(32));
        auto gnode = dir_by_cluster(m_fs, cluster_of(pdd, m_fs.geometry().type));
        std::optional<std::uint64_t> loc;
        UKFS_TRY(gnode->scan(0, [&](const EntryInfo& e) {
            if ((e.raw.DIR_Attr & attr_directory) != 0 &&
                cluster_of(e.raw, m_fs.geometry().type) == parent) {
                loc = e.loc;
                return false;
            }
            return true;
        }));
        if (!loc)
            return Error::corrupt(what(), fmt::format("parent directory (cluster {}) has no "
                                                      "entry in its own parent",
                                                      parent));
        return m_fs.ino_for(*loc);
    }
    const auto e = UKFS_TRY(find(name));
    if (!e)
        return Error::sys(ENOENT);
    return m_fs.ino_for(e->loc);
}

Result<void> MsdosNode::readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) {
    if (m_type != VType::dir)
        return Error::sys(ENOTDIR);
    if (cookie == 0 && !visit({m_ino, VType::dir, "."}, 1))
        return {};
    if (cookie <= 1) {
        const InodeNo parent = UKFS_TRY(lookup(".."));
        if (!visit({parent, VType::dir, ".."}, 2))
            return {};
        cookie = 2;
    }
    if (cookie - 2 >= max_dir_entries)
        return {};
    return scan(static_cast<std::uint32_t>(cookie - 2), [&](const EntryInfo& e) {
        return visit({m_fs.ino_for(e.loc), type_of(e.raw), e.name}, std::uint64_t{e.slot} + 3);
    });
}

Result<InodeNo> MsdosNode::create(std::string_view name, const vfs::NewNode& spec) {
    if (m_type != VType::dir)
        return Error::sys(ENOTDIR);
    if (spec.type != VType::reg && spec.type != VType::dir)
        return not_supported("device nodes, FIFOs or sockets");
    if (m_fs.read_only())
        return Error::sys(EROFS);
    const Geometry& g = m_fs.geometry();
    DirEntryRaw raw{};
    raw.DIR_Attr = spec.type == VType::dir ? attr_directory : attr_archive;
    if (spec.type == VType::reg && (spec.mode & S_IWUSR) == 0)
        raw.DIR_Attr |= attr_read_only;
    std::uint16_t d, t;
    std::uint8_t tenth;
    m_fs.to_dos(m_fs.now(), d, t, &tenth);
    raw.DIR_CrtDate.set(d);
    raw.DIR_CrtTime.set(t);
    raw.DIR_CrtTimeTenth = tenth;
    raw.DIR_WrtDate.set(d);
    raw.DIR_WrtTime.set(t);
    raw.DIR_LstAccDate.set(d);
    std::uint32_t cluster = 0;
    if (spec.type == VType::dir) {
        // The new directory's cluster, with "." and "..", before the entry that links it.
        cluster = UKFS_TRY(m_fs.allocate(0, 1))[0];
        for (std::uint32_t i = 0; i < g.sectors_per_cluster; ++i)
            UKFS_TRY(m_fs.cache().get_zeroed(g.cluster_sector(cluster) + i));
        io::BufRef b = UKFS_TRY(m_fs.sector(g.cluster_sector(cluster), "new directory"));
        DirEntryRaw dot = raw;
        std::memcpy(dot.DIR_Name, ".          ", 11);
        dot.DIR_FstClusLO.set(static_cast<std::uint16_t>(cluster & 0xFFFF));
        dot.DIR_FstClusHI.set(static_cast<std::uint16_t>(cluster >> 16));
        DirEntryRaw dotdot = raw;
        std::memcpy(dotdot.DIR_Name, "..         ", 11);
        const std::uint32_t parent = is_root() ? 0 : first_cluster();
        dotdot.DIR_FstClusLO.set(static_cast<std::uint16_t>(parent & 0xFFFF));
        dotdot.DIR_FstClusHI.set(static_cast<std::uint16_t>(parent >> 16));
        ByteWriter w(b.mark_dirty(), "msdos: new directory");
        UKFS_TRY(w.write(0, dot));
        UKFS_TRY(w.write(dirent_size, dotdot));
        m_fs.cache().barrier();
        raw.DIR_FstClusLO.set(static_cast<std::uint16_t>(cluster & 0xFFFF));
        raw.DIR_FstClusHI.set(static_cast<std::uint16_t>(cluster >> 16));
    }
    auto e = add_entry(name, raw);
    if (!e) {
        if (cluster != 0)
            (void)m_fs.free_chain(cluster);
        return e.error();
    }
    return m_fs.assign_ino(e->loc);
}

Result<InodeNo> MsdosNode::symlink(std::string_view, std::string_view, const vfs::NewNode&) {
    return not_supported("symbolic links");
}

Result<void> MsdosNode::link(std::string_view, vfs::Vnode&) {
    return not_supported("hard links");
}

Result<void> MsdosNode::remove(std::string_view name, vfs::Vnode& child_node) {
    if (m_fs.read_only())
        return Error::sys(EROFS);
    auto& child = static_cast<MsdosNode&>(child_node);
    UKFS_TRY(child.clusters());  // a cross-linked node stays as it is
    const auto e = UKFS_TRY(find(name));
    if (!e || e->loc != child.m_loc)
        return Error::sys(ENOENT);
    UKFS_TRY(remove_slots(*e));
    // The entry goes before the clusters: they are freed when the VFS lets go (release()).
    m_fs.cache().barrier();
    child.m_unlinked = true;
    m_fs.unlinked(child.m_ino, child.m_loc);
    return {};
}

Result<void> MsdosNode::rmdir(std::string_view name, vfs::Vnode& child_node) {
    auto& child = static_cast<MsdosNode&>(child_node);
    if (child.m_type != VType::dir)
        return Error::sys(ENOTDIR);
    if (!UKFS_TRY(child.is_empty_dir()))
        return Error::sys(ENOTEMPTY);
    return remove(name, child_node);
}

Result<void> MsdosNode::rename(std::string_view name, vfs::Vnode& child_node, vfs::Vnode& to_node,
                               std::string_view to_name, vfs::Vnode* replaced_node) {
    if (m_fs.read_only())
        return Error::sys(EROFS);
    auto& child = static_cast<MsdosNode&>(child_node);
    auto& to = static_cast<MsdosNode&>(to_node);
    const auto e = UKFS_TRY(find(name));
    if (!e || e->loc != child.m_loc)
        return Error::sys(ENOENT);
    if (replaced_node != nullptr) {
        auto& rep = static_cast<MsdosNode&>(*replaced_node);
        UKFS_TRY(rep.clusters());
        if (rep.m_type == VType::dir && !UKFS_TRY(rep.is_empty_dir()))
            return Error::sys(ENOTEMPTY);
        const auto re = UKFS_TRY(to.find(to_name));
        if (!re || re->loc != rep.m_loc)
            return Error::sys(ENOENT);
        UKFS_TRY(to.remove_slots(*re));
        rep.m_unlinked = true;
        m_fs.unlinked(rep.m_ino, rep.m_loc);
    }
    // The new entry first, then the old one goes: a crash in between leaves two names (which
    // fsck.fat repairs), never none.
    const EntryInfo ne = UKFS_TRY(to.add_entry(to_name, child.m_raw));
    child.m_raw = ne.raw;
    m_fs.cache().barrier();
    const auto old = UKFS_TRY(find(name));  // the slots may have moved if `to` is this dir
    if (old && old->loc == child.m_loc)
        UKFS_TRY(remove_slots(*old));
    if (child.m_type == VType::dir && &to != this)
        UKFS_TRY(child.set_dotdot(to.is_root() ? 0 : to.first_cluster()));
    m_fs.moved(child.m_ino, child.m_loc, ne.loc);
    child.m_loc = ne.loc;
    return {};
}

}  // namespace uk::msdosfs
