// Shared pieces of the operation-sequence fuzzers (ext2fs_ops_fuzzer, msdos_ops_fuzzer): a
// memory device mounted through a driver's mount function and the VFS, and the strict walk run
// afterwards, which aborts (a finding) when any listed node fails to stat or read: after our
// own writes, unlike after mutated input, every error is a bug.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image_walk.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::fuzz {

// Mount `dev` with `mount_fn` (a driver's Driver::mount), read-only when `ro`; a failure is a
// finding.
template <class MountFn>
std::unique_ptr<vfs::Mount> mount_memory(MountFn& mount_fn, std::string_view type,
                                         std::shared_ptr<io::MemoryDevice> dev, bool ro) {
    vfs::MountRequest req;
    req.device = std::move(dev);
    req.flags = ro ? vfs::mnt_rdonly : 0;
    req.cache_budget = std::size_t{1} << 20;
    auto fs = mount_fn(req);
    check(fs.has_value());
    auto m = vfs::Mount::create(std::move(*fs), std::string(type), req.flags);
    check(m.has_value());
    return std::move(*m);
}

// Every node below `dir` (to depth 8) must stat, every file read and every symlink resolve.
inline void strict_walk(vfs::Mount& m, const std::string& dir, int depth = 0) {
    std::vector<std::string> children;
    auto r = m.readdir(dir, 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        if (e.name != "." && e.name != "..")
            children.emplace_back(e.name);
        return true;
    });
    check(r.has_value());
    std::vector<std::byte> buf(1 << 16);
    for (const std::string& c : children) {
        const std::string p = (dir == "/" ? "" : dir) + "/" + c;
        auto a = m.stat(p, vfs::Follow::no);
        check(a.has_value());
        if (a->type == vfs::VType::dir && depth < 8)
            strict_walk(m, p, depth + 1);
        else if (a->type == vfs::VType::reg)
            check(m.read(p, 0, buf).has_value());
        else if (a->type == vfs::VType::lnk)
            check(m.readlink(p).has_value());
    }
}

}  // namespace uk::fuzz
