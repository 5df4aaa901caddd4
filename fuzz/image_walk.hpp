// The harness the image fuzzers share: mount a read-only MemoryDevice holding the input with
// a driver's mount function, walk the whole tree (each directory once, bounded), stat every
// node and its "..", read every regular file (bounded, plus reads near the end and far past
// it) and every symlink, list directories in small batches (cookies), then unmount. Every
// failure must be an Error with an errno and, for EIO, a message; nothing may crash, hang or
// allocate without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::fuzz {

struct WalkLimits {
    std::size_t max_nodes = 4096;                 // nodes visited per input
    std::size_t max_read = std::size_t{1} << 20;  // bytes read per file
    std::size_t max_name = 255;                   // longest name readdir may report
    int max_batches = 4096;                       // readdir batches per directory
    std::size_t cache_budget = std::size_t{4} << 20;
};

inline void check(bool ok) {
    if (!ok)
        std::abort();
}

template <class T>
void check_error(const Result<T>& r) {
    if (r)
        return;
    check(r.error().errnum() > 0);
    if (r.error().errnum() == EIO)
        check(!r.error().message().empty());
}

namespace detail {

inline void visit_node(vfs::Mount& m, const std::string& path, const vfs::Attr& a,
                       std::vector<std::byte>& buf, const WalkLimits& lim) {
    if (a.type == vfs::VType::reg) {
        std::uint64_t off = 0;
        while (off < a.size && off < lim.max_read) {
            auto n = m.read(path, off, buf);
            check_error(n);
            if (!n || *n == 0)
                break;
            off += *n;
        }
        // A read far away must not allocate: it is a hole or the end of the file.
        check_error(m.read(path, a.size / 2 + (std::uint64_t{1} << 40), buf));
        if (a.size > 3)
            check_error(m.read(path, a.size - 3, buf));
    } else if (a.type == vfs::VType::lnk) {
        check_error(m.readlink(path));
    }
}

// List `path` in batches of 5, resuming at cookies.
inline std::vector<std::string> list_dir(vfs::Mount& m, const std::string& path,
                                         const WalkLimits& lim) {
    std::vector<std::string> out;
    std::uint64_t cookie = 0;
    for (int rounds = 0; rounds < lim.max_batches; ++rounds) {
        std::size_t got = 0;
        std::uint64_t next = cookie;
        auto r = m.readdir(path, cookie, [&](const vfs::DirEntry& e, std::uint64_t n) {
            check(!e.name.empty() && e.name.size() <= lim.max_name);
            out.emplace_back(e.name);
            next = n;
            return ++got < 5;
        });
        check_error(r);
        if (!r || got < 5 || next <= cookie)
            break;
        cookie = next;
    }
    return out;
}

inline void walk(vfs::Mount& m, const WalkLimits& lim) {
    std::vector<std::byte> buf(64 * 1024);
    std::set<vfs::InodeNo> seen_dirs;
    std::vector<std::string> todo{"/"};
    std::size_t nodes = 0;
    while (!todo.empty() && nodes < lim.max_nodes) {
        const std::string dir = todo.back();
        todo.pop_back();
        for (const std::string& name : list_dir(m, dir, lim)) {
            if (name == "." || name == ".." || ++nodes >= lim.max_nodes)
                continue;
            const std::string path = (dir == "/" ? "" : dir) + "/" + name;
            auto a = m.stat(path, vfs::Follow::no);
            check_error(a);
            if (!a)
                continue;
            if (a->type == vfs::VType::dir) {
                check_error(m.stat(path + "/..", vfs::Follow::no));
                if (seen_dirs.insert(a->ino).second)
                    todo.push_back(path);
                continue;
            }
            visit_node(m, path, *a, buf, lim);
        }
    }
    check_error(m.statfs());
}

}  // namespace detail

// Mount the input read-only with `mount` (a driver's mount function), walk it, unmount.
template <class MountFn>
void mount_and_walk(MountFn&& mount, std::string_view type, const std::uint8_t* data,
                    std::size_t size, const WalkLimits& lim = {}, const void* args = nullptr,
                    std::size_t args_len = 0) {
    std::vector<std::byte> bytes(size);
    if (size != 0)
        std::memcpy(bytes.data(), data, size);
    vfs::MountRequest req;
    req.device = std::make_shared<io::MemoryDevice>(std::move(bytes), true);
    req.flags = vfs::mnt_rdonly;
    req.args = args;
    req.args_len = args_len;
    req.cache_budget = lim.cache_budget;
    auto fs = mount(req);
    check_error(fs);
    if (!fs)
        return;
    auto m = vfs::Mount::create(std::move(*fs), std::string(type), vfs::mnt_rdonly);
    check_error(m);
    if (!m)
        return;
    detail::walk(**m, lim);
    check_error((*m)->unmount(true));
}

}  // namespace uk::fuzz
