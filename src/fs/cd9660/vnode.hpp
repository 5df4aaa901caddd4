// The cd9660 vnode: the driver interface over a loaded Node. Every change is EROFS. Private to
// the driver.
#pragma once

#include "fs/cd9660/fs.hpp"
#include "vfs/vnode.hpp"

namespace uk::cd9660 {

class IsoVnode final : public vfs::Vnode {
public:
    IsoVnode(IsoFs& fs, Node node) : m_fs(fs), m_node(std::move(node)) {}

    InodeNo ino() const override { return m_node.ino; }
    VType type() const override { return m_node.type; }

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

private:
    IsoFs& m_fs;
    const Node m_node;
};

}  // namespace uk::cd9660
