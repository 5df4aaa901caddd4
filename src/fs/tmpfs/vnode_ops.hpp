// The tmpfs vnode: the driver interface (vfs/vnode.hpp) over a Node. Private to the driver.
// The operations on one node are in vnode_ops.cpp, those that change directory entries in
// namespace_ops.cpp.
#pragma once

#include <memory>

#include "fs/tmpfs/node.hpp"
#include "fs/tmpfs/tmpfs.hpp"
#include "vfs/vnode.hpp"

namespace uk::tmpfs {

class TmpfsVnode final : public vfs::Vnode {
public:
    TmpfsVnode(Tmpfs& fs, std::shared_ptr<Node> node) : m_fs(fs), m_node(std::move(node)) {}

    Node& node() { return *m_node; }
    const Tmpfs& fs() const { return m_fs; }

    InodeNo ino() const override { return m_node->ino; }
    VType type() const override { return m_node->type; }

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
    // xattr.cpp
    Result<std::vector<std::string>> listxattr() override;
    Result<std::vector<std::byte>> getxattr(std::string_view name) override;
    Result<void> setxattr(std::string_view name, std::span<const std::byte> value,
                          vfs::XattrSet how) override;
    Result<void> removexattr(std::string_view name) override;

private:
    // The node behind another vnode of this mount; EXDEV for a vnode of another mount.
    Result<Node*> peer(vfs::Vnode& other) const;
    // This node as a live directory that may get new entries (ENOTDIR, ENOENT, EPERM).
    Result<Node*> dir_for_insert(std::string_view name);
    Result<InodeNo> make_entry(std::string_view name, const vfs::NewNode& spec,
                               std::string_view target);
    // Rename helpers (namespace_ops.cpp).
    Result<void> check_rename(std::string_view name, Node& child, Node& to,
                              std::string_view to_name, Node* old) const;
    Result<void> check_dir_move(const Node& child, const Node& to, bool replaces_dir) const;
    Result<void> check_not_below(const Node& child, const Node& to) const;

    Tmpfs& m_fs;
    std::shared_ptr<Node> m_node;
};

// Name checks every entry-making operation shares: ENAMETOOLONG past 255 bytes, EINVAL for
// what is not one component.
Result<void> check_name(std::string_view name);
// ENOTDIR unless `node` is a directory.
Result<void> require_dir(const Node& node);

}  // namespace uk::tmpfs
