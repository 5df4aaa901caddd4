// The ext2fs vnode: the driver interface (vfs/vnode.hpp) over a loaded inode. Thin: unpack the
// arguments, call inode/dir/data code, nothing else. Private to the driver.
//
// The inode is loaded once, when the VFS asks for the vnode (one per inode while in use); the
// vnode's copy is the truth from then on: every change is made to it and stored through
// store_inode. Changes run under the mount's exclusive lock (vfs/vnode.hpp), so readers never
// see a half-made change.
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
    InodeData& inode() { return m_inode; }

    // xattr.cpp, xattr_write.cpp: extended attributes.
    Result<std::vector<std::string>> listxattr() override;
    Result<std::vector<std::byte>> getxattr(std::string_view name) override;
    Result<void> setxattr(std::string_view name, std::span<const std::byte> value,
                          vfs::XattrSet how) override;
    Result<void> removexattr(std::string_view name) override;

private:
    template <class Visit>
    Result<void> walk_xattrs(Visit&& visit);
    // Set (`value`) or remove (nullptr) the attribute (index, name) in the inode body or the
    // attribute block; `missing_ok`: removing an absent one is not an error. Not stored.
    Result<void> change_xattr(std::uint8_t index, std::string_view name,
                              const std::vector<std::byte>* value, vfs::XattrSet how,
                              bool missing_ok);
    Result<InodeNo> make_node(std::string_view name, const vfs::NewNode& spec,
                              std::string_view target);
    Result<void> store();

    Ext2Fs& m_fs;
    InodeData m_inode;
};

// Free an unlinked inode: its blocks, its attribute block reference, its bitmap bit.
Result<void> release_inode(Ext2Fs& fs, InodeData& inode);

// i_flags -> NetBSD chflags(2) flags, as NetBSD's ext2fs does, and back (other i_flags bits
// kept from `i_flags`); EOPNOTSUPP for a flag ext2 cannot hold.
std::uint32_t inode_flags_to_chflags(std::uint32_t i_flags);
Result<std::uint32_t> chflags_to_inode_flags(std::uint32_t chflags, std::uint32_t i_flags);
// A device node's i_block -> host dev_t (the old 8:8 encoding in i_block[0], else the new
// 12:20 one in i_block[1]).
std::uint64_t decode_rdev(const InodeData& inode);

}  // namespace uk::ext2fs
