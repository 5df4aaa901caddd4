// makefs images changed byte by byte before mounting: fields makefs cannot produce (nanosecond
// and birth times, file flags, holes), and corruption of each structure the driver reads (the
// superblock, a cylinder group, an inode, a directory entry, a block pointer), which must end
// in a clear EIO naming the structure, never a crash, and be reported by our checker in
// fsck_ffs' words. Also the recovery of a damaged primary superblock from its cylinder group 1
// copy, and the superblock search at each place NetBSD looks (65536, 8192, 0, 262144).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/format.hpp"
#include "fs/ffs/superblock.hpp"
#include "image_support.hpp"

namespace uk::ffs::test {
namespace {

// One image in memory with the Geometry to find its structures.
class Patched : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        if (!have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        const fs::path src = m_work.path() / "src";
        fs::create_directories(src / "dir");
        write_host_file(src / "file", pattern(40000, 3));
        write_host_file(src / "dir/small", pattern(100, 4));
        const fs::path img = m_work.path() / "img";
        ASSERT_EQ(make_image(src, img, std::string("-M 20m ") + GetParam()), 0);
        m_bytes = read_host_file(img);
        io::MemoryDevice dev(m_bytes, true);
        auto found = find_superblock(dev);
        ASSERT_TRUE(found) << found.error().describe();
        auto g = derive_geometry(*found, dev.size());
        ASSERT_TRUE(g) << g.error().describe();
        m_g = *g;
        auto m = mount();
        ASSERT_TRUE(m) << m.error().describe();
        m_file_ino = (*m)->stat("/file", vfs::Follow::no)->ino;
    }

    Result<std::unique_ptr<vfs::Mount>> mount() {
        return mount_device(std::make_shared<io::MemoryDevice>(m_bytes, true));
    }

    std::size_t inode_offset(std::uint64_t ino) const {
        return static_cast<std::size_t>((m_g.ino_to_fsba(ino) << m_g.fshift) +
                                        std::uint64_t{m_g.ino_to_fsbo(ino)} * m_g.inode_size);
    }
    template <class T>
    void put(std::size_t off, T v) {
        Raw<T> r;
        m_g.order.set(r, v);
        std::memcpy(m_bytes.data() + off, r.bytes, sizeof r.bytes);
    }
    template <class T>
    T get(std::size_t off) const {
        Raw<T> r;
        std::memcpy(r.bytes, m_bytes.data() + off, sizeof r.bytes);
        return m_g.order.get(r);
    }
    // Byte offset of field `field_off` of inode `ino` (UFS1 or UFS2 layout chosen by caller).
    std::size_t field(std::uint64_t ino, std::size_t field_off) const {
        return inode_offset(ino) + field_off;
    }
    // The fragment of direct block `n` of inode `ino`.
    std::uint64_t direct(std::uint64_t ino, std::size_t n) const {
        if (m_g.ufs2)
            return get<std::uint64_t>(field(ino, offsetof(Dinode2, di_db) + 8 * n));
        return get<std::uint32_t>(field(ino, offsetof(Dinode1, di_db) + 4 * n));
    }
    void set_direct(std::uint64_t ino, std::size_t n, std::uint64_t v) {
        if (m_g.ufs2)
            put<std::uint64_t>(field(ino, offsetof(Dinode2, di_db) + 8 * n), v);
        else
            put<std::uint32_t>(field(ino, offsetof(Dinode1, di_db) + 4 * n),
                               static_cast<std::uint32_t>(v));
    }
    std::size_t sb_field(std::size_t off) const {
        return static_cast<std::size_t>(m_g.sblock_offset) + off;
    }
    // The mount fails, or reading `path` fails, with EIO and a message containing `words`.
    void expect_eio(const std::string& path, const std::string& words) {
        auto m = mount();
        if (!m) {
            EXPECT_EQ(m.error().errnum(), EIO) << m.error().describe();
            EXPECT_NE(m.error().message().find(words), std::string::npos) << m.error().describe();
            return;
        }
        std::vector<std::byte> buf(1 << 16);
        auto st = (*m)->stat(path, vfs::Follow::no);
        Error e = st ? Error::sys(0) : st.error();
        if (st && st->type == vfs::VType::reg) {
            auto r = (*m)->read(path, 0, buf);
            ASSERT_FALSE(r) << path << " was read";
            e = r.error();
        } else if (st && st->type == vfs::VType::dir) {
            auto r =
                (*m)->readdir(path, 0, [](const vfs::DirEntry&, std::uint64_t) { return true; });
            ASSERT_FALSE(r) << path << " was listed";
            e = r.error();
        }
        EXPECT_EQ(e.errnum(), EIO) << e.describe();
        EXPECT_NE(e.message().find(words), std::string::npos) << e.describe();
    }

    // Byte offset of cylinder group c's header.
    std::size_t cg_off(std::uint32_t c) const {
        return static_cast<std::size_t>(m_g.cgtod(c) << m_g.fshift);
    }
    // Both files of the source read back whole through a read-only mount of `bytes`.
    void expect_tree(const std::vector<std::byte>& bytes) {
        auto m = mount_device(std::make_shared<io::MemoryDevice>(bytes, true));
        ASSERT_TRUE(m) << m.error().describe();
        for (const auto& [path, want] :
             {std::pair{"/file", pattern(40000, 3)}, std::pair{"/dir/small", pattern(100, 4)}}) {
            std::vector<std::byte> got(want.size() + 1);
            auto n = (*m)->read(path, 0, got);
            ASSERT_TRUE(n) << path << ": " << n.error().describe();
            ASSERT_EQ(*n, want.size()) << path;
            got.resize(*n);
            EXPECT_TRUE(got == want) << path;
        }
    }
    // Our checker on `bytes`: its result, and its output in `text`.
    check::CheckResult run_check(const std::vector<std::byte>& bytes, std::string& text) {
        io::MemoryDevice dev(bytes, true);
        text.clear();
        auto r = check::check(dev, {}, [&](std::string_view t) { text += t; });
        EXPECT_TRUE(r) << r.error().describe();
        return r ? *r : check::CheckResult{};
    }

    // The primary copied from its place to byte `to`, with fs_sblockloc `loc` and fs_fsmnt
    // `mnt` (which the checker prints as "Last Mounted on" and no copy is compared on).
    void move_superblock(std::uint64_t to, std::uint64_t loc, const char* mnt) {
        const std::uint32_t sbsize = get<std::uint32_t>(sb_field(offsetof(Superblock, fs_sbsize)));
        std::memmove(m_bytes.data() + to, m_bytes.data() + m_g.sblock_offset, sbsize);
        put<std::uint64_t>(static_cast<std::size_t>(to) + offsetof(Superblock, fs_sblockloc), loc);
        const std::size_t fsmnt = static_cast<std::size_t>(to) + offsetof(Superblock, fs_fsmnt);
        std::memset(m_bytes.data() + fsmnt, 0, maxmntlen);
        std::memcpy(m_bytes.data() + fsmnt, mnt, std::strlen(mnt));
    }
    std::uint64_t found_at() const {
        io::MemoryDevice dev(m_bytes, true);
        auto f = find_superblock(dev);
        return f ? f->offset : 1;
    }
    // The driver's search takes the superblock at `where`, a read-only mount reads the tree, and
    // our checker takes the same superblock (fs_fsmnt `mnt`) and finds the file system clean.
    void expect_found_at(std::uint64_t where, const char* mnt) {
        EXPECT_EQ(found_at(), where);
        expect_tree(m_bytes);
        std::string text;
        const check::CheckResult r = run_check(m_bytes, text);
        EXPECT_EQ(r.exit_code, 0) << text;
        EXPECT_TRUE(r.problems.empty()) << text;
        EXPECT_NE(text.find(fmt::format("** Last Mounted on {}\n", mnt)), std::string::npos)
            << text;
    }
    // No superblock is where NetBSD looks: the mount is EINVAL, the checker finds no magic.
    void expect_not_found() {
        auto m = mount();
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum(), EINVAL) << m.error().describe();
        EXPECT_NE(m.error().message().find("ffs: no superblock"), std::string::npos)
            << m.error().describe();
        std::string text;
        const check::CheckResult r = run_check(m_bytes, text);
        EXPECT_EQ(r.exit_code, 8) << text;
        EXPECT_TRUE(r.reported("BAD SUPER BLOCK: MAGIC NUMBER WRONG")) << text;
    }
    // Fragment `f` of cylinder group 0 is free in its map.
    bool frag_free(std::uint64_t f) const {
        const std::size_t map =
            cg_off(0) + get<std::uint32_t>(cg_off(0) + offsetof(CylinderGroup, cg_freeoff));
        return ((std::to_integer<unsigned>(m_bytes[map + f / 8]) >> (f % 8)) & 1) != 0;
    }

    TempDir m_work;
    std::vector<std::byte> m_bytes;
    Geometry m_g;
    std::uint64_t m_file_ino = 0;
};

// A device in memory that records where it is asked to write.
class WatchedDevice final : public io::BlockDevice {
public:
    explicit WatchedDevice(std::vector<std::byte> bytes) : m_mem(std::move(bytes), false) {}
    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override {
        return m_mem.read_at(offset, dst);
    }
    Result<void> write_at(std::uint64_t offset, std::span<const std::byte> src) override {
        writes.emplace_back(offset, src.size());
        return m_mem.write_at(offset, src);
    }
    Result<void> flush() override { return {}; }
    std::uint64_t size() const override { return m_mem.size(); }
    bool read_only() const override { return false; }
    std::string name() const override { return "watched"; }
    std::vector<std::byte> bytes() const { return {m_mem.bytes().begin(), m_mem.bytes().end()}; }
    bool holds(const std::vector<std::byte>& b) const {
        return b.size() == m_mem.size() &&
               std::memcmp(b.data(), m_mem.bytes().data(), b.size()) == 0;
    }

    std::vector<std::pair<std::uint64_t, std::uint64_t>> writes;  // (offset, length)

private:
    io::MemoryDevice m_mem;
};

// A read-write mount with a fixed clock and seed (so two runs write the same bytes).
Result<std::unique_ptr<vfs::Mount>> mount_rw(std::shared_ptr<io::BlockDevice> dev) {
    vfs::MountRequest req;
    req.device = std::move(dev);
    req.cache_budget = std::size_t{8} << 20;
    req.clock.fixed = timespec{1700000000, 0};
    req.clock.seed = 1;
    std::unique_ptr<vfs::FileSystem> fs = UKFS_TRY(mount_ffs(req));
    return vfs::Mount::create(std::move(fs), "ffs", 0);
}

TEST_P(Patched, TimesAndFlags) {
    const std::uint64_t ino = m_file_ino;
    if (m_g.ufs2) {
        put<std::uint32_t>(field(ino, offsetof(Dinode2, di_mtimensec)), 123456789);
        put<std::uint32_t>(field(ino, offsetof(Dinode2, di_atimensec)), 5);
        put<std::uint64_t>(field(ino, offsetof(Dinode2, di_birthtime)), 1234567890);
        put<std::uint32_t>(field(ino, offsetof(Dinode2, di_birthnsec)), 999999999);
        put<std::uint32_t>(field(ino, offsetof(Dinode2, di_flags)), uf_nodump | sf_archived);
    } else {
        put<std::uint32_t>(field(ino, offsetof(Dinode1, di_mtimensec)), 123456789);
        put<std::uint32_t>(field(ino, offsetof(Dinode1, di_atimensec)), 5);
        put<std::uint32_t>(field(ino, offsetof(Dinode1, di_flags)), uf_nodump | sf_archived);
    }
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    auto a = (*m)->stat("/file", vfs::Follow::no);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->mtime.tv_nsec, 123456789);
    EXPECT_EQ(a->atime.tv_nsec, 5);
    EXPECT_EQ(a->flags, uf_nodump | sf_archived);
    if (m_g.ufs2) {
        EXPECT_EQ(a->birthtime.tv_sec, 1234567890);
        EXPECT_EQ(a->birthtime.tv_nsec, 999999999);
    }
}

TEST_P(Patched, HoleReadsAsZeros) {
    const auto want = pattern(40000, 3);
    const std::uint32_t bs = m_g.bsize;
    set_direct(m_file_ino, 0, 0);  // the first block becomes a hole
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    std::vector<std::byte> got(40000);
    auto n = (*m)->read("/file", 0, got);
    ASSERT_TRUE(n) << n.error().describe();
    ASSERT_EQ(*n, 40000u);
    const std::size_t first = std::min<std::size_t>(bs, 40000);
    for (std::size_t i = 0; i < first; ++i)
        ASSERT_EQ(got[i], std::byte{0}) << i;
    EXPECT_TRUE(std::equal(got.begin() + static_cast<std::ptrdiff_t>(first), got.end(),
                           want.begin() + static_cast<std::ptrdiff_t>(first)));
}

TEST_P(Patched, BadMagic) {
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_magic)), 0x12345678);
    auto m = mount();
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL) << m.error().describe();
    EXPECT_NE(m.error().message().find("ffs: no superblock"), std::string::npos);
}

TEST_P(Patched, BsizeOutOfRange) {
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_bsize)), 131072);
    expect_eio("/", "fs_bsize 131072");
}

TEST_P(Patched, NcgHuge) {
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_ncg)), 0x7fffffff);
    expect_eio("/", "superblock at");
}

TEST_P(Patched, FsSizeBeyondDevice) {
    put<std::uint64_t>(sb_field(offsetof(Superblock, fs_size)), m_g.size * 4);
    if (!m_g.ufs2)
        put<std::uint32_t>(sb_field(offsetof(Superblock, fs_old_size)),
                           static_cast<std::uint32_t>(m_g.size * 4));
    expect_eio("/", "fs_size");
}

TEST_P(Patched, InodeNumberOutOfRange) {
    // The third entry of the root ("dir" or "file") names an inode past the last group.
    const std::size_t root = static_cast<std::size_t>(direct(root_ino, 0) << m_g.fshift);
    const std::size_t dot_len = get<std::uint16_t>(root + 4);
    const std::size_t dotdot_len = get<std::uint16_t>(root + dot_len + 4);
    put<std::uint32_t>(root + dot_len + dotdot_len, static_cast<std::uint32_t>(m_g.inodes() + 5));
    expect_eio("/", "d_ino");
}

TEST_P(Patched, DirectoryReclenWrong) {
    const std::size_t root = static_cast<std::size_t>(direct(root_ino, 0) << m_g.fshift);
    put<std::uint16_t>(root + 4, 6);  // "." too short for its name, not a multiple of 4
    expect_eio("/", "d_reclen");
    put<std::uint16_t>(root + 4, 1024);  // past its chunk
    expect_eio("/", "d_reclen");
}

TEST_P(Patched, BlockPointerOutsideFs) {
    set_direct(m_file_ino, 1, m_g.size + 100);
    expect_eio("/file", "outside the file system");
    set_direct(root_ino, 0, m_g.size);
    expect_eio("/", "outside the file system");
}

TEST_P(Patched, FreeOrBadInode) {
    const std::size_t mode = field(m_file_ino, 0);  // di_mode is first in both layouts
    put<std::uint16_t>(mode, 0);
    expect_eio("/file", "not in use");
    put<std::uint16_t>(mode, 0170644);  // ifwht is no inode type
    expect_eio("/file", "unknown file type");
}

TEST_P(Patched, BackupSuperblockRecovers) {
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_bsize)), 3000);
    io::MemoryDevice dev(m_bytes, true);
    auto found = find_superblock(dev);
    ASSERT_TRUE(found);
    EXPECT_FALSE(derive_geometry(*found, dev.size()));
    auto backup = find_backup_geometry(dev);
    ASSERT_TRUE(backup) << backup.error().describe();
    EXPECT_EQ(backup->bsize, m_g.bsize);
    EXPECT_EQ(backup->ncg, m_g.ncg);
    EXPECT_EQ(backup->sblock_offset, m_g.cgsblock(1) << m_g.fshift);
}

// The search takes the copy at the first place NetBSD looks (65536) only when it is not a
// backup: a copy naming another place in fs_sblockloc, or an old UFS1 there, is passed over.
TEST_P(Patched, SearchSkipsBackups) {
    const std::size_t from = static_cast<std::size_t>(m_g.sblock_offset);
    ASSERT_EQ(from, sblock_ufs1);  // where makefs puts both versions
    std::memcpy(m_bytes.data() + sblock_ufs2, m_bytes.data() + from, sizeof(Superblock));
    const auto found_at = [&]() -> std::uint64_t {
        io::MemoryDevice dev(m_bytes, true);
        auto f = find_superblock(dev);
        return f ? f->offset : 1;
    };
    EXPECT_EQ(found_at(), sblock_ufs1);
    put<std::uint64_t>(sblock_ufs2 + offsetof(Superblock, fs_sblockloc), sblock_ufs2);
    EXPECT_EQ(found_at(), sblock_ufs2);
    if (!m_g.ufs2) {
        m_bytes[sblock_ufs2 + offsetof(Superblock, fs_old_flags)] &= std::byte{0x7f};
        EXPECT_EQ(found_at(), sblock_ufs1);
    }
}

// A 4.2BSD-format file system (fs_old_inodefmt FS_42INODEFMT): d_type and d_namlen are one
// 16-bit name length, so listings take each type from the inode.
TEST_P(Patched, OldDirectoryFormat) {
    if (m_g.ufs2)
        GTEST_SKIP() << "UFS2 has no 4.2BSD format";
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_old_inodefmt)),
                       static_cast<std::uint32_t>(fs_42inodefmt));
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_maxsymlinklen)), 0);
    // Rewrite the entries of the root and of "dir": d_type and d_namlen -> a 16-bit d_namlen.
    const auto rewrite = [&](std::uint64_t ino) {
        const std::size_t chunk = static_cast<std::size_t>(direct(ino, 0) << m_g.fshift);
        std::size_t pos = 0;
        std::uint64_t sub = 0;
        while (pos < dirblksiz) {
            const std::uint16_t reclen = get<std::uint16_t>(chunk + pos + 4);
            const auto namlen = static_cast<std::uint8_t>(m_bytes[chunk + pos + 7]);
            if (namlen == 3 && std::memcmp(m_bytes.data() + chunk + pos + 8, "dir", 3) == 0)
                sub = get<std::uint32_t>(chunk + pos);
            put<std::uint16_t>(chunk + pos + 6, namlen);
            pos += reclen;
        }
        return sub;
    };
    const std::uint64_t dir_ino = rewrite(root_ino);
    ASSERT_NE(dir_ino, 0u);
    rewrite(dir_ino);
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    std::map<std::string, vfs::VType> got;
    auto r = (*m)->readdir("/", 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        got.emplace(std::string(e.name), e.type);
        return true;
    });
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(got.size(), 4u);
    EXPECT_EQ(got["dir"], vfs::VType::dir);
    EXPECT_EQ(got["file"], vfs::VType::reg);
    std::vector<std::byte> buf(200);
    auto n = (*m)->read("/dir/small", 0, buf);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(*n, 100u);
}

// A damaged header of cylinder group 0, one field at a time. Reads never need a group, so a
// read-only mount reads every file. On a read-write mount, creating a file in the root (its
// inode goes to group 0) fails with EIO naming the group and the field, and leaves the image as
// a mount and unmount alone do (they write only the superblock); growing a file of group 0
// fails the same way, leaving the file's size and data. Our checker reports the group in
// fsck_ffs' words: pass 1's and pass 5's bad magic, pass 5's header comparison.
TEST_P(Patched, DamagedCylinderGroup) {
    const std::vector<std::byte> clean = m_bytes;
    const std::size_t h = cg_off(0);
    struct Case {
        std::string field;
        std::function<void()> damage;
    };
    const std::vector<Case> cases = {
        {"cg_magic", [&] { put<std::uint32_t>(h + offsetof(CylinderGroup, cg_magic), 0x12345); }},
        {"cg_cgx", [&] { put<std::uint32_t>(h + offsetof(CylinderGroup, cg_cgx), 1); }},
        {"cg_ndblk",
         [&] { put<std::uint32_t>(h + offsetof(CylinderGroup, cg_ndblk), m_g.fpg + m_g.frag); }},
        {m_g.ufs2 ? "cg_niblk" : "cg_old_niblk",
         [&] {
             if (m_g.ufs2)
                 put<std::uint32_t>(h + offsetof(CylinderGroup, cg_niblk), m_g.ipg * 2);
             else
                 put<std::uint16_t>(h + offsetof(CylinderGroup, cg_old_niblk),
                                    static_cast<std::uint16_t>(m_g.ipg * 2));
         }},
        {"cg_iusedoff",
         [&] { put<std::uint32_t>(h + offsetof(CylinderGroup, cg_iusedoff), m_g.cgsize); }},
        {"cg_freeoff",
         [&] { put<std::uint32_t>(h + offsetof(CylinderGroup, cg_freeoff), 0xfffffff0u); }},
        {"cg_nextfreeoff",
         [&] { put<std::uint32_t>(h + offsetof(CylinderGroup, cg_nextfreeoff), m_g.cgsize + 1); }},
    };
    const std::uint64_t sb_end = m_g.sblock_offset + sblock_size;
    const std::vector<std::byte> more = pattern(5000, 9);
    // What a mount and unmount alone leave (the clean flag and the times they write to the
    // superblock; no group is read).
    std::vector<std::byte> quiet;
    {
        auto dev = std::make_shared<WatchedDevice>(clean);
        auto m = mount_rw(dev);
        ASSERT_TRUE(m) << m.error().describe();
        ASSERT_TRUE((*m)->unmount(false));
        quiet = dev->bytes();
    }
    for (const Case& c : cases) {
        SCOPED_TRACE(c.field);
        // Reads and growing a file take the same path whatever the field: once is enough.
        const bool first = &c == &cases.front();
        m_bytes = quiet;
        c.damage();
        std::vector<std::byte> quiet_damaged;
        quiet_damaged.swap(m_bytes);
        m_bytes = clean;
        c.damage();
        const std::vector<std::byte>& damaged = m_bytes;
        if (first)
            expect_tree(damaged);
        const auto named = [&](const Error& e) {
            EXPECT_EQ(e.errnum(), EIO) << e.describe();
            EXPECT_NE(e.message().find("cylinder group 0: " + c.field), std::string::npos)
                << e.describe();
        };
        // Creating a file fails at its first step, the inode: nothing is written but what
        // the mount and unmount write to the superblock.
        auto dev = std::make_shared<WatchedDevice>(damaged);
        {
            auto m = mount_rw(dev);
            ASSERT_TRUE(m) << m.error().describe();
            auto made = (*m)->create("/new", 0644, true);
            ASSERT_FALSE(made);
            named(made.error());
            ASSERT_TRUE((*m)->unmount(false));
        }
        EXPECT_FALSE(dev->writes.empty());
        for (const auto& [off, len] : dev->writes) {
            EXPECT_GE(off, m_g.sblock_offset);
            EXPECT_LE(off + len, sb_end) << "a write at " << off << " of " << len;
        }
        EXPECT_TRUE(dev->holds(quiet_damaged));
        // The checker names the damage, and finds nothing else.
        std::vector<std::string> want = {"SUMMARY INFORMATION BAD"};
        if (c.field == "cg_magic")
            want = {"CG 0: PASS5: BAD MAGIC NUMBER", "SUMMARY INFORMATION BAD"};
        std::string text;
        check::CheckResult r = run_check(damaged, text);
        EXPECT_EQ(r.exit_code, 8) << text;
        EXPECT_EQ(r.problems, want) << text;
        if (!first)
            continue;
        // Growing a file fails at its first new fragment. As NetBSD's ffs_write, the failed
        // write still stamps the file's times; its size and data stay, every write stays
        // inside the image, and the checker finds nothing new.
        dev = std::make_shared<WatchedDevice>(damaged);
        {
            auto m = mount_rw(dev);
            ASSERT_TRUE(m) << m.error().describe();
            auto grown = (*m)->write("/file", 40000, more);
            ASSERT_FALSE(grown);
            named(grown.error());
            ASSERT_TRUE((*m)->unmount(false));
        }
        for (const auto& [off, len] : dev->writes)
            EXPECT_LE(off + len, damaged.size()) << "a write at " << off << " of " << len;
        const std::vector<std::byte> after = dev->bytes();
        expect_tree(after);
        r = run_check(after, text);
        EXPECT_EQ(r.exit_code, 8) << text;
        EXPECT_EQ(r.problems, want) << text;
    }
}

// With group 1 damaged, a read-write mount still creates and fills a file in the root (group
// 0 holds its inode and blocks), and the checker finds nothing wrong but group 1.
TEST_P(Patched, DamagedCylinderGroupSparesOthers) {
    put<std::uint32_t>(cg_off(1) + offsetof(CylinderGroup, cg_magic), 0);
    const std::vector<std::byte> data = pattern(5000, 7);
    auto dev = std::make_shared<WatchedDevice>(m_bytes);
    {
        auto m = mount_rw(dev);
        ASSERT_TRUE(m) << m.error().describe();
        ASSERT_TRUE((*m)->create("/new", 0644, true));
        auto n = (*m)->write("/new", 0, data);
        ASSERT_TRUE(n) << n.error().describe();
        ASSERT_TRUE((*m)->unmount(false));
    }
    const std::vector<std::byte> after = dev->bytes();
    expect_tree(after);
    auto m = mount_device(std::make_shared<io::MemoryDevice>(after, true));
    ASSERT_TRUE(m) << m.error().describe();
    std::vector<std::byte> got(data.size());
    auto n = (*m)->read("/new", 0, got);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_TRUE(got == data);
    std::string text;
    const check::CheckResult r = run_check(after, text);
    EXPECT_EQ(r.exit_code, 8) << text;
    const std::vector<std::string> want = {"CG 1: PASS5: BAD MAGIC NUMBER",
                                           "SUMMARY INFORMATION BAD"};
    EXPECT_EQ(r.problems, want) << text;
}

// Superblock fields that put a cylinder group, or part of one, outside the groups fs_size
// holds or outside the device: the mount fails with EIO naming the field, the checker
// refuses the superblock.
TEST_P(Patched, SuperblockGroupsOutsideDevice) {
    const std::vector<std::byte> clean = m_bytes;
    struct Case {
        std::string words;
        std::function<void()> damage;
    };
    const auto set32 = [&](std::size_t field, std::uint64_t v) {
        put<std::uint32_t>(sb_field(field), static_cast<std::uint32_t>(v));
    };
    const std::vector<Case> cases = {
        {"fs_ncg 3 groups", [&] { set32(offsetof(Superblock, fs_ncg), m_g.ncg + 1); }},
        {"fs_fpg", [&] { set32(offsetof(Superblock, fs_fpg), m_g.fpg * 2); }},
        {"fs_ipg", [&] { set32(offsetof(Superblock, fs_ipg), m_g.ipg * 2); }},
        {"fs_cgsize", [&] { set32(offsetof(Superblock, fs_cgsize), m_g.bsize * 2); }},
        {"is not inside the device",
         [&] {
             const std::uint64_t size = std::uint64_t{m_g.ncg + 1} * m_g.fpg;
             set32(offsetof(Superblock, fs_ncg), m_g.ncg + 1);
             put<std::uint64_t>(sb_field(offsetof(Superblock, fs_size)), size);
             set32(offsetof(Superblock, fs_old_size), size);
         }},
    };
    ASSERT_EQ(m_g.ncg, 2u);  // "fs_ncg 3 groups" above
    for (const Case& c : cases) {
        SCOPED_TRACE(c.words);
        m_bytes = clean;
        c.damage();
        expect_eio("/", c.words);
        std::string text;
        const check::CheckResult r = run_check(m_bytes, text);
        EXPECT_EQ(r.exit_code, 8) << text;
        EXPECT_TRUE(r.reported("BAD SUPER BLOCK: ")) << text;
        EXPECT_FALSE(r.reported("BAD SUPER BLOCK: MAGIC NUMBER WRONG")) << text;
    }
}

// NetBSD's SBLOCK_FLOPPY: a UFS1 superblock at byte 0. Updated UFS1 records its place in
// fs_sblockloc, so the copy at 8192 that names 0 is a backup and is passed over; an old UFS1
// (no FS_FLAGS_UPDATED) lives where it is found. A copy at 0 naming 8192 is nobody's primary.
TEST_P(Patched, SuperblockAtFloppy) {
    if (m_g.ufs2)
        GTEST_SKIP() << "SBLOCK_FLOPPY holds a UFS1 superblock";
    const std::vector<std::byte> clean = m_bytes;
    const std::size_t magic8192 = sblock_ufs1 + offsetof(Superblock, fs_magic);
    ASSERT_GE(m_g.sblkno << m_g.fshift, 2 * sblock_size);  // bytes 0-8191 are the boot area
    // The copy at 8192 kept, naming the primary at 0.
    move_superblock(sblock_floppy, sblock_floppy, "/floppy");
    put<std::uint64_t>(sblock_ufs1 + offsetof(Superblock, fs_sblockloc), sblock_floppy);
    expect_found_at(sblock_floppy, "/floppy");
    // The copy at 8192 destroyed.
    put<std::uint32_t>(magic8192, 0);
    expect_found_at(sblock_floppy, "/floppy");
    // Not updated: fs_sblockloc means nothing, the superblock lives where it is found.
    m_bytes[offsetof(Superblock, fs_old_flags)] &= std::byte{0x7f};
    put<std::uint64_t>(offsetof(Superblock, fs_sblockloc), 12345);
    EXPECT_EQ(found_at(), sblock_floppy);
    expect_tree(m_bytes);
    {
        // The checker takes it too (it then compares the cylinder groups' rotational tables
        // that an old UFS1 keeps and makefs does not: not asserted here).
        std::string text;
        const check::CheckResult r = run_check(m_bytes, text);
        EXPECT_NE(text.find("** Last Mounted on /floppy\n"), std::string::npos) << text;
        EXPECT_FALSE(r.reported("BAD SUPER BLOCK")) << text;
    }
    // Updated and naming 8192: a backup, and no primary is left.
    m_bytes = clean;
    move_superblock(sblock_floppy, sblock_ufs1, "/floppy");
    put<std::uint32_t>(magic8192, 0);
    expect_not_found();
}

// NetBSD's SBLOCK_PIGGY: a superblock at 262144 whose fs_sblockloc says so, the copy at 8192
// either naming it (a backup) or destroyed. One naming 8192 there is nobody's primary.
TEST_P(Patched, SuperblockAtPiggy) {
    const std::vector<std::byte> clean = m_bytes;
    const std::size_t magic8192 = sblock_ufs1 + offsetof(Superblock, fs_magic);
    for (std::uint64_t f = sblock_piggy >> m_g.fshift;
         f < (sblock_piggy + sblock_size) >> m_g.fshift; ++f)
        ASSERT_TRUE(frag_free(f)) << "fragment " << f << " holds data";
    move_superblock(sblock_piggy, sblock_piggy, "/piggy");
    put<std::uint64_t>(sblock_ufs1 + offsetof(Superblock, fs_sblockloc), sblock_piggy);
    expect_found_at(sblock_piggy, "/piggy");
    put<std::uint32_t>(magic8192, 0);
    expect_found_at(sblock_piggy, "/piggy");
    m_bytes = clean;
    move_superblock(sblock_piggy, sblock_ufs1, "/piggy");
    put<std::uint32_t>(magic8192, 0);
    expect_not_found();
}

// More of NetBSD's rules. An old UFS1 superblock at 65536 is cg 0's copy in a file system of
// 64 KiB blocks, never a primary. A superblock in its place that does not validate is passed
// over by ffs_mountfs, which goes on searching; fsck_ffs' readsb() instead checks the first
// one in its place and stops there (it passes over any UFS1 superblock at 65536).
TEST_P(Patched, SearchRules) {
    const std::vector<std::byte> clean = m_bytes;
    const std::size_t magic8192 = sblock_ufs1 + offsetof(Superblock, fs_magic);
    if (!m_g.ufs2) {
        move_superblock(sblock_ufs2, sblock_ufs2, "/old");
        m_bytes[sblock_ufs2 + offsetof(Superblock, fs_old_flags)] &= std::byte{0x7f};
        put<std::uint32_t>(magic8192, 0);
        expect_not_found();
        m_bytes = clean;
    }
    // A copy at 65536 in its place but with a bad fs_bsize; the primary at 8192 is good.
    // (65536 is inside /file's data in these images: only /dir/small is read.)
    move_superblock(sblock_ufs2, sblock_ufs2, "/bad");
    put<std::uint32_t>(sblock_ufs2 + offsetof(Superblock, fs_bsize), 3000);
    EXPECT_EQ(found_at(), sblock_ufs1);
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    std::vector<std::byte> got(200);
    auto n = (*m)->read("/dir/small", 0, got);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(*n, 100u);
    std::string text;
    const check::CheckResult r = run_check(m_bytes, text);
    if (m_g.ufs2) {
        EXPECT_EQ(r.exit_code, 8) << text;
        EXPECT_TRUE(r.reported("BAD SUPER BLOCK: BLOCK SIZE 3000 OUT OF RANGE")) << text;
    } else {
        EXPECT_EQ(r.exit_code, 0) << text;
        EXPECT_EQ(text.find("Last Mounted on /bad"), std::string::npos) << text;
    }
    // Nothing valid anywhere: the error is the first superblock's in its place.
    put<std::uint32_t>(sb_field(offsetof(Superblock, fs_bsize)), 5000);
    expect_eio("/", "superblock at 65536: fs_bsize 3000");
}

INSTANTIATE_TEST_SUITE_P(Makefs, Patched,
                         ::testing::Values("-B le -o version=2,bsize=4096,fsize=512",
                                           "-B be -o version=2,bsize=4096,fsize=512",
                                           "-B le -o version=1,bsize=4096,fsize=512",
                                           "-B be -o version=1,bsize=4096,fsize=512"),
                         [](const auto& info) {
                             std::string n = info.param;
                             return std::string(n.find("version=2") != std::string::npos ? "ufs2"
                                                                                         : "ufs1") +
                                    (n.find("be") != std::string::npos ? "_be" : "_le");
                         });

}  // namespace
}  // namespace uk::ffs::test
