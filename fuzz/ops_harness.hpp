// Shared pieces of the operation-sequence fuzzers (ext2fs_ops_fuzzer, ffs_ops_fuzzer,
// msdos_ops_fuzzer): base images made once by a shell command, a memory device mounted through
// a driver's mount function and the VFS, the operation loop that reads the input, and the
// strict walk run afterwards, which aborts (a finding) when any listed node fails to stat or
// read: after our own writes, unlike after mutated input, every error is a bug.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "image_walk.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::fuzz {

// Run `cmd` through the shell, quietly; true when it succeeded.
inline bool sh(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

// The whole of a host file (empty when it cannot be read).
inline std::vector<std::byte> slurp(const std::string& path) {
    std::vector<std::byte> out;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        return out;
    std::byte buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.insert(out.end(), buf, buf + n);
    std::fclose(f);
    return out;
}

// The names an operation sequence works on: a byte picks one of 4 directories (high nibble)
// and one of 6 names (low nibble), so that the operations keep meeting the same nodes.
struct Paths {
    const char* names[6];
    const char* dirs[4];
    std::string of(std::uint8_t sel) const {
        return std::string(dirs[(sel >> 4) % 4]) + "/" + names[(sel & 0x0F) % 6];
    }
};

// Attribute names: in-inode or block placement follows from the value sizes the input picks.
inline const char* const xattr_names[] = {
    "user.a",    "user.a-longer-attribute-name", "security.selinux",
    "trusted.t", "system.posix_acl_access",      "user.b"};

// Apply the operations `in` spells, four bytes each (operation, path, two argument bytes), at
// most `max_ops` of them: every operation of the VFS that changes a tree, reads, and switches
// between root's credentials and a user's. Their
// results are not judged: errors (ENOSPC, ENOTEMPTY, EOPNOTSUPP where a driver lacks an
// operation...) are expected; what the caller checks afterwards is the image.
inline void run_ops(vfs::Mount& m, std::span<const std::uint8_t> in, const Paths& paths,
                    std::size_t max_ops = 200) {
    std::vector<std::byte> buf(1 << 15);
    for (std::size_t i = 0, ops = 0; i + 4 <= in.size() && ops < max_ops; i += 4, ++ops) {
        const std::string p = paths.of(in[i + 1]);
        const std::uint64_t arg = std::uint64_t{in[i + 2]} << 8 | in[i + 3];
        switch (in[i] % 16) {
        case 0: (void)m.create(p, 0644, false); break;
        case 1:
        case 2: {
            const std::size_t n = arg % buf.size();
            std::memset(buf.data(), in[i + 3], n);
            // Now and then far out: indirect blocks or extents over holes.
            const std::uint64_t off = (arg & 1) != 0 ? arg * 4099 : arg * 13 % 300000;
            (void)m.write(p, off, std::span(buf).first(n));
            break;
        }
        case 3: (void)m.truncate(p, arg * 5); break;
        case 4: (void)m.mkdir(p, 0755); break;
        case 5: (void)m.rmdir(p); break;
        case 6: (void)m.remove(p); break;
        case 7: (void)m.rename(p, paths.of(in[i + 2])); break;
        case 8: (void)m.link(p, paths.of(in[i + 2])); break;
        case 9: (void)m.symlink(std::string(arg % 200 + 1, 'l'), p); break;
        case 10: (void)m.chmod(p, arg & 07777, vfs::Follow::no); break;
        case 11: (void)m.mknod(p, S_IFIFO | 0644, 0); break;
        case 12: {
            const std::size_t n = arg % 1200;
            std::memset(buf.data(), in[i + 2], n);
            (void)m.setxattr(p, xattr_names[in[i + 3] % 6], std::span(buf).first(n),
                             static_cast<vfs::XattrSet>(in[i + 2] % 3), vfs::Follow::no);
            break;
        }
        case 13: (void)m.removexattr(p, xattr_names[in[i + 3] % 6], vfs::Follow::no); break;
        case 14:  // a user's permissions, and the reserve a user may not fill (ffs minfree)
            m.set_cred((arg & 1) != 0 ? vfs::Cred{1000, 1000, {}} : vfs::Cred{});
            break;
        default: (void)m.read(p, arg, buf); break;
        }
    }
}

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
