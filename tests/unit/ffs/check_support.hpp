// Shared by the FFS checker tests: makefs images made at test time, a small raw reader over an
// image in memory (offsets found through format.hpp), and a check run that keeps the output.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/format.hpp"
#include "io/block_device.hpp"

namespace uk::ffs::check::test {

namespace fs = std::filesystem;

inline bool have_makefs() {
    return std::system("command -v makefs >/dev/null 2>&1") == 0;
}

struct Tmp {
    fs::path dir;
    Tmp() {
        char t[] = "/tmp/ffscheckXXXXXX";
        dir = ::mkdtemp(t);
    }
    ~Tmp() { fs::remove_all(dir); }
};

inline void write_file(const fs::path& p, std::size_t n, char c) {
    std::ofstream(p, std::ios::binary) << std::string(n, c);
}

// An image of `tree` made by makefs; empty when makefs failed.
inline std::vector<std::byte> makefs(const Tmp& t, const std::string& opts) {
    const fs::path img = t.dir / "img";
    fs::remove(img);
    const std::string cmd = fmt::format("makefs -t ffs {} {} {} >/dev/null 2>&1", opts,
                                        img.string(), (t.dir / "tree").string());
    if (std::system(cmd.c_str()) != 0)
        return {};
    if (const char* keep = std::getenv("UKFS_KEEP_IMAGE"))
        fs::copy_file(img, keep, fs::copy_options::overwrite_existing);
    std::vector<std::byte> b(fs::file_size(img));
    std::ifstream in(img, std::ios::binary);
    in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return b;
}

// A small raw reader over an image in memory, for the tests' own offsets.
struct Raw {
    std::vector<std::byte>& b;
    Order o;
    Superblock sb{};
    std::uint64_t sbloc = 0;
    bool ufs2 = false;
    explicit Raw(std::vector<std::byte>& bytes) : b(bytes) {
        for (std::uint64_t off : sblock_search) {
            for (auto e : {std::endian::little, std::endian::big}) {
                Order ord(e);
                std::memcpy(&sb, b.data() + off, sizeof sb);
                const auto m = ord.u32(sb.fs_magic);
                const bool here = m == ufs2_magic ? ord.u64(sb.fs_sblockloc) == off
                                                  : m == ufs1_magic && off != sblock_ufs2;
                if (here) {
                    o = ord;
                    sbloc = off;
                    ufs2 = m == ufs2_magic;
                    return;
                }
            }
        }
        ADD_FAILURE() << "no superblock";
    }
    std::uint32_t f(const Raw32& r) const { return o.u32(r); }
    std::uint64_t fsize() const { return f(sb.fs_fsize); }
    std::uint64_t cgstart(std::uint64_t c) const {
        const std::uint64_t base = std::uint64_t{f(sb.fs_fpg)} * c;
        return ufs2 ? base : base + f(sb.fs_old_cgoffset) * (c & ~f(sb.fs_old_cgmask));
    }
    std::uint64_t inode_off(std::uint64_t ino) const {
        const std::uint64_t ipg = f(sb.fs_ipg), inopb = f(sb.fs_inopb);
        const std::uint64_t c = ino / ipg;
        const std::uint64_t frag =
            (cgstart(c) + f(sb.fs_iblkno)) + (ino % ipg) / inopb * f(sb.fs_frag);
        return frag * fsize() + (ino % inopb) * (ufs2 ? 256 : 128);
    }
    std::uint64_t cg_off(std::uint64_t c) const { return (cgstart(c) + f(sb.fs_cblkno)) * fsize(); }
    template <class T>
    T get(std::uint64_t off) const {
        T v;
        std::memcpy(&v, b.data() + off, sizeof v);
        return v;
    }
    template <class T>
    void put(std::uint64_t off, const T& v) {
        std::memcpy(b.data() + off, &v, sizeof v);
    }
    // Offset of field db[i] / di_nlink / di_blocks of an inode.
    std::uint64_t db_off(std::uint64_t ino, int i) const {
        return inode_off(ino) +
               (ufs2 ? offsetof(Dinode2, di_db) + 8 * i : offsetof(Dinode1, di_db) + 4 * i);
    }
    std::uint64_t db(std::uint64_t ino, int i) const {
        return ufs2 ? o.u64(get<Raw64>(db_off(ino, i))) : o.u32(get<Raw32>(db_off(ino, i)));
    }
    void set_db(std::uint64_t ino, int i, std::uint64_t v) {
        if (ufs2) {
            Raw64 r;
            o.set(r, v);
            put(db_off(ino, i), r);
        } else {
            Raw32 r;
            o.set(r, static_cast<std::uint32_t>(v));
            put(db_off(ino, i), r);
        }
    }
    std::uint64_t ib_off(std::uint64_t ino) const {
        return inode_off(ino) + (ufs2 ? offsetof(Dinode2, di_ib) : offsetof(Dinode1, di_ib));
    }
    std::uint64_t size_off(std::uint64_t ino) const {
        return inode_off(ino) + (ufs2 ? offsetof(Dinode2, di_size) : offsetof(Dinode1, di_size));
    }
    void set_size(std::uint64_t ino, std::uint64_t v) {
        Raw64 r;
        o.set(r, v);
        put(size_off(ino), r);
    }
    std::uint64_t ib(std::uint64_t ino, int n) const {
        return ufs2 ? o.u64(get<Raw64>(ib_off(ino) + 8 * n))
                    : o.u32(get<Raw32>(ib_off(ino) + 4 * n));
    }
    std::uint16_t nlink(std::uint64_t ino) const { return o.u16(get<Raw16>(inode_off(ino) + 2)); }
    void set_nlink(std::uint64_t ino, std::uint16_t v) {
        Raw16 r;
        o.set(r, v);
        put(inode_off(ino) + 2, r);
    }
    std::uint16_t mode(std::uint64_t ino) const { return o.u16(get<Raw16>(inode_off(ino))); }
    void bump_blocks(std::uint64_t ino) {
        if (ufs2) {
            const auto off = inode_off(ino) + offsetof(Dinode2, di_blocks);
            Raw64 r = get<Raw64>(off);
            o.set(r, o.u64(r) + 2);
            put(off, r);
        } else {
            const auto off = inode_off(ino) + offsetof(Dinode1, di_blocks);
            Raw32 r = get<Raw32>(off);
            o.set(r, o.u32(r) + 2);
            put(off, r);
        }
    }
    // The first regular file inode with data blocks, and the first directory after the root.
    std::uint64_t find(std::uint16_t type, bool with_data) const {
        const std::uint64_t n = std::uint64_t{f(sb.fs_ipg)};  // cg 0 is enough for these trees
        for (std::uint64_t i = root_ino + 1; i < n; ++i)
            if ((mode(i) & ifmt) == type && (!with_data || db(i, 0) != 0))
                return i;
        ADD_FAILURE() << "no such inode";
        return 0;
    }
};

inline CheckResult run(std::vector<std::byte> bytes, std::string* text = nullptr) {
    io::MemoryDevice dev(std::move(bytes), true);
    std::string out;
    auto r = check(dev, {}, [&](std::string_view s) { out += s; });
    EXPECT_TRUE(r.has_value());
    if (text)
        *text = out;
    return r ? *r : CheckResult{};
}

}  // namespace uk::ffs::check::test
