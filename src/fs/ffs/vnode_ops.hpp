// The FFS vnode: the driver interface (vfs/vnode.hpp) over a loaded inode. Changes are EROFS
// on a read-only mount. Private to the driver.
#pragma once

#include "fs/ffs/fs.hpp"
#include "fs/ffs/inode.hpp"
#include "vfs/vnode.hpp"

namespace uk::ffs {

class FfsVnode final : public vfs::Vnode {
public:
    FfsVnode(FfsFs& fs, InodeData inode) : m_fs(fs), m_inode(inode) {}

    InodeNo ino() const override { return m_inode.ino; }
    VType type() const override { return m_inode.type; }

    Result<vfs::Attr> getattr() override;
    Result<void> setattr(const vfs::SetAttr& changes) override;

    Result<InodeNo> lookup(std::string_view name) override;
    Result<void> readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) override;
    Result<InodeNo> create(std::string_view name, const vfs::NewNode& spec) override;
    Result<InodeNo> symlink(std::string_view name, std::string_view target,
                            const vfs::NewNode& spec) override;
    Result<void> link(std::string_view name, vfs::Vnode& target) override;
    Result<void> remove(std::string_view name, vfs::Vnode& child) override;
    Result<void> rmdir(std::string_view name, vfs::Vnode& child) override;
    Result<void> rename(std::string_view name, vfs::Vnode& child, vfs::Vnode& to_dir,
                        std::string_view to_name, vfs::Vnode* replaced) override;

    Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> dst) override;
    Result<std::size_t> write(std::uint64_t offset, std::span<const std::byte> src) override;

    Result<std::string> readlink() override;

    const InodeData& inode() const { return m_inode; }
    InodeData& inode() { return m_inode; }

private:
    Result<void> store();
    Result<InodeNo> make_node(std::string_view name, const vfs::NewNode& spec,
                              std::string_view target);

    FfsFs& m_fs;
    InodeData m_inode;
};

// Free an inode whose last link is gone: its blocks, then the inode itself.
Result<void> release_inode(FfsFs& fs, InodeData& inode);

// A device node's NetBSD dev_t (di_db[0]) -> host dev_t.
std::uint64_t decode_rdev(std::uint32_t netbsd_dev);

}  // namespace uk::ffs
