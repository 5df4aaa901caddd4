// A tmpfs mount driven directly through vfs::FileSystem and vfs::Vnode, with a tiny path
// resolver (successive lookup + load, no symlinks, no permission checks) standing in for the
// VFS.
#pragma once

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <ukfs/netbsd.h>

#include "base/result.hpp"
#include "base/time.hpp"
#include "fs/tmpfs/tmpfs.hpp"
#include "vfs/registry.hpp"
#include "vfs/vnode.hpp"

namespace uk::tmpfs::test {

using vfs::Attr;
using vfs::InodeNo;
using vfs::NewNode;
using vfs::SetAttr;
using vfs::VType;
using VnodePtr = std::unique_ptr<vfs::Vnode>;

// The value of a Result the test needs; a failed one ends the test with its error.
template <class T>
T must(Result<T> r, const char* what = "operation") {
    if (!r)
        throw std::runtime_error(std::string(what) + ": " + r.error().describe());
    if constexpr (!std::is_void_v<T>)
        return std::move(*r);
}

// The errno of a failed Result, 0 when it succeeded.
template <class T>
int err(const Result<T>& r) {
    return r ? 0 : r.error().errnum();
}

inline std::span<const std::byte> bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline tmpfs_args make_args(off_t size_max = 0, ino_t nodes_max = 0) {
    tmpfs_args a{};
    a.ta_version = TMPFS_ARGS_VERSION;
    a.ta_size_max = size_max;
    a.ta_nodes_max = nodes_max;
    a.ta_root_uid = 0;
    a.ta_root_gid = 0;
    a.ta_root_mode = 01777;
    return a;
}

// Wait until the clock has moved on, so that any time taken after this returns is later than
// any taken before it. Not a timing assertion: it only orders events.
inline void tick() {
    const timespec start = now();
    while (now() == start) {
    }
}

// A timespec as something gtest compares and prints.
inline std::pair<std::int64_t, long> ts(const timespec& t) {
    return {static_cast<std::int64_t>(t.tv_sec), t.tv_nsec};
}

inline bool later(const timespec& a, const timespec& b) {
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

class TmpfsTest : public ::testing::Test {
protected:
    void SetUp() override { mount(nullptr); }

    void mount(const tmpfs_args* args, int flags = 0) {
        vfs::MountRequest req;
        req.flags = flags;
        req.args = args;
        req.args_len = args ? sizeof *args : 0;
        fs = must(mount_tmpfs(req), "mount");
    }

    VnodePtr root() { return must(fs->load(fs->root()), "load root"); }

    // The node at `path` ("" or "/" is the root), or the first error on the way.
    Result<VnodePtr> resolve(std::string_view path) {
        VnodePtr node = UKFS_TRY(fs->load(fs->root()));
        while (!path.empty()) {
            const auto slash = path.find('/');
            const std::string_view name = path.substr(0, slash);
            path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
            if (name.empty())
                continue;
            const InodeNo ino = UKFS_TRY(node->lookup(name));
            node = UKFS_TRY(fs->load(ino));
        }
        return node;
    }

    VnodePtr get(std::string_view path) { return must(resolve(path), "resolve"); }

    // The parent directory of `path` and its last component.
    std::pair<VnodePtr, std::string> parent(std::string_view path) {
        const auto slash = path.rfind('/');
        if (slash == std::string_view::npos)
            return {root(), std::string(path)};
        return {get(path.substr(0, slash)), std::string(path.substr(slash + 1))};
    }

    Result<InodeNo> try_make(std::string_view path, VType type = VType::reg,
                             std::uint32_t mode = 0644, std::uint64_t rdev = 0) {
        auto [dir, name] = parent(path);
        return dir->create(name, NewNode{type, mode, 1000, 100, rdev});
    }
    InodeNo make(std::string_view path, VType type = VType::reg, std::uint32_t mode = 0644) {
        return must(try_make(path, type, mode), "create");
    }
    InodeNo mkdir(std::string_view path) { return make(path, VType::dir, 0755); }

    Result<void> try_remove(std::string_view path) {
        auto [dir, name] = parent(path);
        VnodePtr child = UKFS_TRY(resolve(path));
        return dir->remove(name, *child);
    }
    Result<void> try_rmdir(std::string_view path) {
        auto [dir, name] = parent(path);
        VnodePtr child = UKFS_TRY(resolve(path));
        return dir->rmdir(name, *child);
    }
    Result<void> try_link(std::string_view existing, std::string_view path) {
        VnodePtr target = UKFS_TRY(resolve(existing));
        auto [dir, name] = parent(path);
        return dir->link(name, *target);
    }
    Result<void> try_rename(std::string_view from, std::string_view to) {
        auto [src, src_name] = parent(from);
        auto [dst, dst_name] = parent(to);
        VnodePtr child = UKFS_TRY(resolve(from));
        auto existing = resolve(to);
        VnodePtr replaced = existing ? std::move(*existing) : nullptr;
        return src->rename(src_name, *child, *dst, dst_name, replaced.get());
    }
    // Reclaim `path`'s node after removing it, as the VFS does when its last user lets go.
    void remove_and_reclaim(std::string_view path) {
        VnodePtr node = get(path);
        auto [dir, name] = parent(path);
        if (node->type() == VType::dir)
            must(dir->rmdir(name, *node), "rmdir");
        else
            must(dir->remove(name, *node), "remove");
        must(fs->reclaim(*node), "reclaim");
    }

    std::size_t write(std::string_view path, std::uint64_t offset, std::string_view data) {
        return must(get(path)->write(offset, bytes(data)), "write");
    }
    std::string read(std::string_view path, std::uint64_t offset = 0, std::size_t len = 1 << 20) {
        std::string out(len, '\0');
        auto dst = std::as_writable_bytes(std::span<char>(out));
        out.resize(must(get(path)->read(offset, dst), "read"));
        return out;
    }
    Attr stat(std::string_view path) { return must(get(path)->getattr(), "getattr"); }
    vfs::StatFs statfs() { return must(fs->statfs(), "statfs"); }
    void setattr(std::string_view path, const SetAttr& c) {
        must(get(path)->setattr(c), "setattr");
    }

    struct Listed {
        std::string name;
        InodeNo ino;
        VType type;
        std::uint64_t next;
    };
    // Up to `max` entries from `cookie`.
    std::vector<Listed> list(std::string_view path, std::uint64_t cookie = 0,
                             std::size_t max = SIZE_MAX) {
        std::vector<Listed> out;
        must(get(path)->readdir(cookie,
                                [&](const vfs::DirEntry& e, std::uint64_t next) {
                                    out.push_back({std::string(e.name), e.ino, e.type, next});
                                    return out.size() < max;
                                }),
             "readdir");
        return out;
    }
    std::vector<std::string> names(std::string_view path) {
        std::vector<std::string> out;
        for (const Listed& e : list(path))
            out.push_back(e.name);
        return out;
    }

    std::unique_ptr<vfs::FileSystem> fs;
};

}  // namespace uk::tmpfs::test
