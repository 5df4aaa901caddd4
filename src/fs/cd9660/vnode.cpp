// cd9660 vnode operations and file data (see vnode.hpp). Data: whole 2048-byte blocks of a
// request go straight from the device into the caller's buffer (BufferCache::read_direct);
// only partial blocks pass through the cache, as ext2fs/data.cpp does.
#include "fs/cd9660/vnode.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace uk::cd9660 {

namespace {

Error read_only() { return Error::sys(EROFS, "cd9660: ISO 9660 is read-only"); }

}  // namespace

Result<std::size_t> IsoFs::read(const Node& node, std::uint64_t offset,
                                std::span<std::byte> dst) {
    if (offset >= node.size || dst.empty())
        return std::size_t{0};
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(),
                                                                    node.size - offset));
    std::size_t done = 0;
    std::uint64_t ext_start = 0;  // file offset of the current extent
    for (const Extent& ext : node.extents) {
        if (done == n)
            break;
        const std::uint64_t ext_end = ext_start + ext.bytes;
        while (done < n && offset + done < ext_end) {
            const std::uint64_t pos = offset + done;
            if (pos < ext_start)
                break;
            const std::uint64_t in_ext = pos - ext_start;
            const std::uint64_t lba = ext.lba + (in_ext >> sector_shift);
            const std::size_t in = static_cast<std::size_t>(in_ext & (sector_size - 1));
            const std::size_t left = static_cast<std::size_t>(
                std::min<std::uint64_t>(n - done, ext_end - pos));
            if (in == 0 && left >= sector_size) {
                const std::size_t whole = left & ~std::size_t{sector_size - 1};
                UKFS_TRY(m_cache->read_direct(lba, dst.subspan(done, whole)));
                done += whole;
                continue;
            }
            io::BufRef buf = UKFS_TRY(m_cache->get(lba));
            const std::size_t take = std::min<std::size_t>(left, sector_size - in);
            std::memcpy(dst.data() + done, buf.data().data() + in, take);
            done += take;
        }
        ext_start = ext_end;
    }
    return done;
}

Result<vfs::Attr> IsoVnode::getattr() {
    const Node& n = m_node;
    vfs::Attr a;
    a.type = n.type;
    a.mode = n.mode & 07777;
    a.nlink = n.nlink;
    a.uid = n.uid;
    a.gid = n.gid;
    a.ino = n.ino;
    a.size = n.size;
    std::uint64_t blocks = 0;
    for (const Extent& e : n.extents)
        blocks += blocks_for(e.bytes);
    a.blocks = blocks * (sector_size / 512);
    a.blksize = sector_size;
    a.rdev = n.rdev;
    a.atime = n.atime;
    a.mtime = n.mtime;
    a.ctime = n.ctime;
    a.birthtime = n.birthtime;
    return a;
}

Result<void> IsoVnode::setattr(const vfs::SetAttr&) { return read_only(); }

Result<InodeNo> IsoVnode::lookup(std::string_view name) {
    if (m_node.type != VType::dir)
        return Error::sys(ENOTDIR);
    if (name.size() > 255)
        return Error::sys(ENAMETOOLONG);
    return m_fs.lookup(m_node, name);
}

Result<void> IsoVnode::readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) {
    if (m_node.type != VType::dir)
        return Error::sys(ENOTDIR);
    return m_fs.readdir(m_node, cookie, visit);
}

Result<InodeNo> IsoVnode::create(std::string_view, const vfs::NewNode&) { return read_only(); }
Result<InodeNo> IsoVnode::symlink(std::string_view, std::string_view, const vfs::NewNode&) {
    return read_only();
}
Result<void> IsoVnode::link(std::string_view, vfs::Vnode&) { return read_only(); }
Result<void> IsoVnode::remove(std::string_view, vfs::Vnode&) { return read_only(); }
Result<void> IsoVnode::rmdir(std::string_view, vfs::Vnode&) { return read_only(); }
Result<void> IsoVnode::rename(std::string_view, vfs::Vnode&, vfs::Vnode&, std::string_view,
                              vfs::Vnode*) {
    return read_only();
}

Result<std::size_t> IsoVnode::read(std::uint64_t offset, std::span<std::byte> dst) {
    if (m_node.type == VType::dir)
        return Error::sys(EISDIR);
    if (m_node.type != VType::reg)
        return Error::sys(EINVAL, "cd9660: read of a node that is not a regular file");
    return m_fs.read(m_node, offset, dst);
}

Result<std::size_t> IsoVnode::write(std::uint64_t, std::span<const std::byte>) {
    return read_only();
}

Result<std::string> IsoVnode::readlink() {
    if (m_node.type != VType::lnk)
        return Error::sys(EINVAL);
    if (m_node.symlink.empty())
        return Error::corrupt(m_node.what(), "an empty Rock Ridge symlink target");
    return m_node.symlink;
}

}  // namespace uk::cd9660
