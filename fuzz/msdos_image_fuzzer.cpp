// libFuzzer target for the msdos driver: the input is an image in a read-only MemoryDevice.
// Mount it read-only, walk the whole tree (breadth first, each directory once, bounded),
// stat every node, read every regular file (bounded) and every symlink, list directories in
// small batches (cookies), then unmount. Every failure must be an Error with an errno and,
// for EIO, a message; nothing may crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fs/msdosfs/fs.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

using namespace uk;

namespace {

constexpr std::size_t max_nodes = 4096;           // nodes visited per input
constexpr std::size_t max_read = std::size_t{1} << 20;  // bytes read per file
constexpr std::size_t cache_budget = std::size_t{4} << 20;

void check(bool ok) {
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

void visit_node(vfs::Mount& m, const std::string& path, const vfs::Attr& a,
                std::vector<std::byte>& buf) {
    if (a.type == vfs::VType::reg) {
        std::uint64_t off = 0;
        while (off < a.size && off < max_read) {
            auto n = m.read(path, off, buf);
            check_error(n);
            if (!n || *n == 0)
                break;
            off += *n;
        }
        // A read far away must not allocate: it is a hole or the end of the file.
        check_error(m.read(path, a.size / 2 + (std::uint64_t{1} << 40), buf));
    } else if (a.type == vfs::VType::lnk) {
        check_error(m.readlink(path));
    }
}

// List `path` in batches of 5, resuming at cookies; returns its entries.
std::vector<std::pair<std::string, vfs::InodeNo>> list_dir(vfs::Mount& m, const std::string& path) {
    std::vector<std::pair<std::string, vfs::InodeNo>> out;
    std::uint64_t cookie = 0;
    for (int rounds = 0; rounds < 4096; ++rounds) {
        std::size_t got = 0;
        std::uint64_t next = cookie;
        auto r = m.readdir(path, cookie, [&](const vfs::DirEntry& e, std::uint64_t n) {
            check(!e.name.empty() && e.name.size() <= 255);
            out.emplace_back(std::string(e.name), e.ino);
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

void walk(vfs::Mount& m) {
    std::vector<std::byte> buf(64 * 1024);
    std::set<vfs::InodeNo> seen_dirs;
    std::vector<std::string> todo{"/"};
    std::size_t nodes = 0;
    while (!todo.empty() && nodes < max_nodes) {
        const std::string dir = todo.back();
        todo.pop_back();
        for (const auto& [name, ino] : list_dir(m, dir)) {
            if (name == "." || name == ".." || ++nodes >= max_nodes)
                continue;
            const std::string path = (dir == "/" ? "" : dir) + "/" + name;
            auto a = m.stat(path, vfs::Follow::no);
            check_error(a);
            if (!a)
                continue;
            if (a->type == vfs::VType::dir) {
                if (seen_dirs.insert(a->ino).second)
                    todo.push_back(path);
                continue;
            }
            visit_node(m, path, *a, buf);
        }
    }
    check_error(m.statfs());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::byte> bytes(size);
    if (size != 0)
        std::memcpy(bytes.data(), data, size);
    auto dev = std::make_shared<io::MemoryDevice>(std::move(bytes), true);
    vfs::MountRequest req;
    req.device = dev;
    req.flags = vfs::mnt_rdonly;
    req.cache_budget = cache_budget;
    auto fs = msdosfs::mount_msdos(req);
    check_error(fs);
    if (!fs)
        return 0;
    auto m = vfs::Mount::create(std::move(*fs), "msdos", vfs::mnt_rdonly);
    check_error(m);
    if (!m)
        return 0;
    walk(**m);
    check_error((*m)->unmount(true));
    return 0;
}
