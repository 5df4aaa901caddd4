// The ext2fs vnode: the driver interface (vfs/vnode.hpp) over a loaded inode. Thin: unpack the
// arguments, call inode/dir/data code, nothing else. Private to the driver.
//
// The mount is read-only for now: every operation that would change the file system returns
// EROFS. The inode is loaded once, when the VFS asks for the vnode; nothing changes it after.
#pragma once

#include "fs/ext2fs/fs.hpp"
#include "fs/ext2fs/inode.hpp"
#include "vfs/vnode.hpp"

namespace uk::ext2fs {

class Ext2Vnode final : public vfs::Vnode {
public:
    Ext2Vnode(Ext2Fs& fs, InodeData inode) : m_fs(fs), m_inode(std::move(inode)) {}

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

private:
    Ext2Fs& m_fs;
    const InodeData m_inode;
};

// i_flags -> NetBSD chflags(2) flags, as NetBSD's ext2fs does.
std::uint32_t inode_flags_to_chflags(std::uint32_t i_flags);
// A device node's i_block -> host dev_t (the old 8:8 encoding in i_block[0], else the new
// 12:20 one in i_block[1]).
std::uint64_t decode_rdev(const InodeData& inode);

}  // namespace uk::ext2fs
