// The FFS checker: makefs images are judged clean; one fault injected at a time (offsets found
// through format.hpp by the raw reader in check_support.hpp) is reported in fsck_ffs' words with exit 8.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_support.hpp"
#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/format.hpp"
#include "fs/ffs/fs.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"

namespace uk::ffs::check {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

void make_tree(const fs::path& root, int many) {
    fs::create_directories(root / "d1/d2/d3");
    write_file(root / "small", 100, 'a');
    write_file(root / "d1/mid", 70000, 'b');
    write_file(root / "d1/d2/d3/big", 1 << 20, 'c');
    {
        std::ofstream s(root / "sparse", std::ios::binary);
        s << "head";
        s.seekp(20 << 20);
        s << "tail";
    }
    fs::create_hard_link(root / "small", root / "d1/hard");
    fs::create_symlink("small", root / "fast");
    fs::create_symlink(std::string(200, 'x'), root / "slow");
    ::mkfifo((root / "fifo").c_str(), 0644);
    fs::create_directory(root / "empty");
    // Device nodes need privilege; a socket does not.
    (void)::mknod((root / "chr").c_str(), S_IFCHR | 0600, makedev(4, 64));
    (void)::mknod((root / "blk").c_str(), S_IFBLK | 0600, makedev(8, 1));
    {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        const std::string sp = (root / "sock").string();
        if (fd >= 0 && sp.size() < sizeof sa.sun_path) {
            std::memcpy(sa.sun_path, sp.c_str(), sp.size() + 1);
            (void)::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        }
        if (fd >= 0)
            ::close(fd);
    }
    for (int i = 0; i < 40; ++i)
        fs::create_directories(root / "tree" / fmt::format("w{}", i) / "x" / "y");
    fs::create_directory(root / "many");
    for (int i = 0; i < many; ++i)
        write_file(root / "many" / fmt::format("entry-{:05}-with-a-long-name", i), i % 7, 'm');
}

class FfsCheck : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (!have_makefs())
            GTEST_SKIP() << "makefs not installed";
        make_tree(m_tmp.dir / "tree", 300);
        m_img = makefs(m_tmp, GetParam());
        ASSERT_FALSE(m_img.empty()) << "makefs " << GetParam();
    }
    void expect(const std::vector<std::byte>& img, const std::string& message) {
        std::string text;
        const CheckResult r = run(img, &text);
        EXPECT_EQ(r.exit_code, 8) << text;
        if (std::getenv("UKFS_SHOW_FSCK"))
            std::cout << text;
        EXPECT_TRUE(r.reported(message)) << "wanted " << message << "\n" << text;
        EXPECT_NE(text.find(message.substr(0, message.find(" I="))), std::string::npos) << text;
    }
    Tmp m_tmp;
    std::vector<std::byte> m_img;
};

TEST_P(FfsCheck, MakefsImageIsClean) {
    std::string text;
    const CheckResult r = run(m_img, &text);
    EXPECT_EQ(r.exit_code, 0) << text;
    EXPECT_TRUE(r.problems.empty()) << text;
    EXPECT_NE(text.find("** Phase 5 - Check Cyl groups"), std::string::npos);
    EXPECT_NE(r.summary_line.find(" files, "), std::string::npos);
}

TEST_P(FfsCheck, WrongLinkCount) {
    Raw raw(m_img);
    const auto ino = raw.find(ifreg, true);
    const auto n = raw.nlink(ino);
    raw.set_nlink(ino, static_cast<std::uint16_t>(n + 1));
    expect(m_img, fmt::format("LINK COUNT FILE I={} COUNT {} SHOULD BE {}", ino, n + 1, n));
}

TEST_P(FfsCheck, UnreferencedInode) {
    Raw raw(m_img);
    // A file whose only entry is gone: d_ino 0 marks an entry of the root directory unused.
    const std::uint64_t root_blk = raw.db(root_ino, 0) * raw.fsize();
    std::uint64_t ino = 0;
    for (std::uint64_t loc = 0; loc < 512 && ino == 0;) {
        const auto h = raw.get<DirectHeader>(root_blk + loc);
        const std::uint32_t e = raw.o.u32(h.d_ino);
        if (h.d_type == dt_reg && raw.nlink(e) == 1) {
            ino = e;
            Raw32 z;
            raw.o.set(z, 0u);
            raw.put(root_blk + loc, z);
        }
        if (raw.o.u16(h.d_reclen) == 0)
            break;
        loc += raw.o.u16(h.d_reclen);
    }
    ASSERT_NE(ino, 0u) << "no single-link file in the root's first block";
    expect(m_img, fmt::format("UNREF FILE I={}", ino));
}

TEST_P(FfsCheck, DuplicateBlock) {
    Raw raw(m_img);
    const auto a = raw.find(ifreg, true);
    const auto dir = raw.find(ifdir, true);
    // The directory's first block now also belongs to file a.
    raw.set_db(a, 0, raw.db(dir, 0));
    expect(m_img, "DUP");
}

TEST_P(FfsCheck, FreeCountWrongInCgAndSuperblock) {
    Raw raw(m_img);
    auto cg = raw.get<CylinderGroup>(raw.cg_off(0));
    raw.o.set(cg.cg_cs.cs_nffree, raw.o.u32(cg.cg_cs.cs_nffree) + 1);
    raw.put(raw.cg_off(0), cg);
    std::vector<std::byte> img2 = m_img;
    expect(m_img, "SUMMARY INFORMATION BAD");

    Raw raw2(img2);
    Raw64 v = raw2.sb.fs_cstotal.cs_nbfree;
    raw2.o.set(v, raw2.o.u64(v) + 1);
    raw2.sb.fs_cstotal.cs_nbfree = v;
    raw2.put(raw2.sbloc, raw2.sb);
    expect(img2, "FREE BLK COUNT(S) WRONG IN SUPERBLK");
}

TEST_P(FfsCheck, FreeMapBitWrong) {
    Raw raw(m_img);
    const auto cg = raw.get<CylinderGroup>(raw.cg_off(0));
    // The fragment of the root directory's first block, marked free.
    const std::uint64_t frag = raw.db(root_ino, 0);
    const std::uint64_t off = raw.cg_off(0) + raw.o.u32(cg.cg_freeoff) + frag / 8;
    auto byte = raw.get<std::uint8_t>(off);
    byte ^= static_cast<std::uint8_t>(1u << (frag % 8));
    raw.put(off, byte);
    expect(m_img, "BLK(S) MISSING IN BIT MAPS");
}

TEST_P(FfsCheck, BadReclenAndMissingDot) {
    Raw raw(m_img);
    const auto dir = raw.find(ifdir, true);
    const std::uint64_t blk = raw.db(dir, 0) * raw.fsize();
    std::vector<std::byte> img2 = m_img;
    auto h = raw.get<DirectHeader>(blk);
    raw.o.set(h.d_reclen, std::uint16_t{7});
    raw.put(blk, h);
    expect(m_img, "DIRECTORY CORRUPTED");

    Raw raw2(img2);
    auto h2 = raw2.get<DirectHeader>(blk);
    h2.d_namlen = 1;
    raw2.put(blk, h2);
    raw2.put(blk + 8, 'x');
    expect(img2, "MISSING '.'");
}

TEST_P(FfsCheck, EntryToFreeInode) {
    Raw raw(m_img);
    // A free inode (UFS2: one past cg_initediblk is free too, without being read).
    std::uint64_t free_ino = std::uint64_t{raw.f(raw.sb.fs_ncg)} * raw.f(raw.sb.fs_ipg) - 1;
    while (free_ino > root_ino && raw.mode(free_ino) != 0)
        --free_ino;
    ASSERT_GT(free_ino, root_ino) << "no free inode";
    ASSERT_GT(free_ino, root_ino + 1) << "no free inode in cg 0";
    --free_ino;
    const std::uint64_t root_blk = raw.db(root_ino, 0) * raw.fsize();
    // The third entry of the root (after '.' and '..') now names the free inode.
    std::uint64_t loc = 0;
    for (int i = 0; i < 2; ++i)
        loc += raw.o.u16(raw.get<DirectHeader>(root_blk + loc).d_reclen);
    Raw32 v;
    raw.o.set(v, static_cast<std::uint32_t>(free_ino));
    raw.put(root_blk + loc, v);
    expect(m_img, fmt::format("UNALLOCATED I={}", free_ino));
}

TEST_P(FfsCheck, PartiallyTruncated) {
    Raw raw(m_img);
    std::uint64_t ino = 0;
    for (std::uint64_t i = root_ino + 1; i < raw.f(raw.sb.fs_ipg) && ino == 0; ++i)
        if ((raw.mode(i) & ifmt) == ifreg && raw.ib(i, 0) != 0 && raw.ib(i, 1) == 0)
            ino = i;
    ASSERT_NE(ino, 0u);
    // The size now ends in the first block the indirect block maps; the others are left over.
    raw.set_size(ino, std::uint64_t{raw.f(raw.sb.fs_bsize)} * ndaddr + 1);
    expect(m_img, fmt::format("PARTIALLY TRUNCATED INODE I={}", ino));
}

TEST_P(FfsCheck, ZeroLengthDirectory) {
    Raw raw(m_img);
    const auto dir = raw.find(ifdir, true);
    raw.set_size(dir, 0);
    raw.set_db(dir, 0, 0);
    expect(m_img, fmt::format("ZERO LENGTH DIRECTORY I={}", dir));
}

TEST_P(FfsCheck, BlockCountWrong) {
    Raw raw(m_img);
    const auto ino = raw.find(ifreg, true);
    raw.bump_blocks(ino);
    expect(m_img, fmt::format("INCORRECT BLOCK COUNT I={}", ino));
}

// A short symlink keeps its target in the inode and owns no block: a block count is wrong.
TEST_P(FfsCheck, BlockCountOnShortSymlink) {
    Raw raw(m_img);
    std::uint64_t ino = 0;
    for (std::uint64_t i = root_ino + 1; i < raw.f(raw.sb.fs_ipg) && ino == 0; ++i)
        if ((raw.mode(i) & ifmt) == iflnk && raw.o.u64(raw.get<Raw64>(raw.size_off(i))) < 20)
            ino = i;
    ASSERT_NE(ino, 0u) << "no short symlink";
    raw.bump_blocks(ino);
    expect(m_img, fmt::format("INCORRECT BLOCK COUNT I={} (2 should be 0)", ino));
}

// A snapshot's pointers may hold BLK_NOCOPY (1) and BLK_SNAP (2): fsck_ffs neither checks nor
// counts them in an SF_SNAPSHOT inode. In any other inode they are bad blocks.
TEST_P(FfsCheck, SnapshotMarkersAreNotBlocks) {
    // A file with holes at blocks 1 and 2, written by the driver (makefs writes no holes).
    std::uint64_t ino = 0;
    {
        auto dev = std::make_shared<io::MemoryDevice>(m_img, false);
        vfs::MountRequest req;
        req.device = dev;
        auto fsys = mount_ffs(req);
        ASSERT_TRUE(fsys) << fsys.error().describe();
        auto m = vfs::Mount::create(std::move(*fsys), "ffs", 0);
        ASSERT_TRUE(m) << m.error().describe();
        const std::uint64_t bsize = dynamic_cast<FfsFs&>((*m)->fs()).geometry().bsize;
        auto fd = (*m)->open("/holes", O_RDWR | O_CREAT, 0644);
        ASSERT_TRUE(fd) << fd.error().describe();
        const std::byte one[1] = {std::byte{1}};
        ASSERT_TRUE((*m)->write_fd(*fd, 0, one, false));
        ASSERT_TRUE((*m)->write_fd(*fd, 3 * bsize, one, false));
        auto st = (*m)->fstat(*fd);
        ASSERT_TRUE(st);
        ino = st->ino;
        ASSERT_TRUE((*m)->close(*fd));
        ASSERT_TRUE((*m)->unmount(false));
        m_img.assign(dev->bytes().begin(), dev->bytes().end());
    }
    Raw raw(m_img);
    ASSERT_EQ(raw.db(ino, 1), 0u);
    ASSERT_EQ(raw.db(ino, 2), 0u);
    raw.set_db(ino, 1, blk_nocopy);
    raw.set_db(ino, 2, blk_snap);
    std::vector<std::byte> plain = m_img;
    expect(plain, fmt::format("{} BAD I={}", blk_nocopy, ino));

    const std::uint64_t flags_off =
        raw.inode_off(ino) + (raw.ufs2 ? offsetof(Dinode2, di_flags) : offsetof(Dinode1, di_flags));
    Raw32 flags;
    raw.o.set(flags, sf_snapshot);
    raw.put(flags_off, flags);
    std::string text;
    const CheckResult r = run(m_img, &text);
    EXPECT_EQ(r.exit_code, 0) << text;
    EXPECT_TRUE(r.problems.empty()) << text;
}

// The byte offset of the entry `name` in directory `dir`'s first block, and its inode.
std::pair<std::uint64_t, std::uint64_t> find_entry(const Raw& raw, std::uint64_t dir,
                                                   std::string_view name) {
    const std::uint64_t blk = raw.db(dir, 0) * raw.fsize();
    for (std::uint64_t loc = 0; loc < raw.f(raw.sb.fs_bsize);) {
        const auto h = raw.get<DirectHeader>(blk + loc);
        const std::uint16_t reclen = raw.o.u16(h.d_reclen);
        if (reclen == 0)
            break;
        if (h.d_namlen == name.size() &&
            std::memcmp(raw.b.data() + blk + loc + sizeof h, name.data(), name.size()) == 0)
            return {blk + loc, raw.o.u32(h.d_ino)};
        loc += reclen;
    }
    ADD_FAILURE() << "no entry " << name;
    return {0, 0};
}

std::uint32_t uid(const Raw& raw, std::uint64_t ino) {
    return raw.o.u32(raw.get<Raw32>(
        raw.inode_off(ino) + (raw.ufs2 ? offsetof(Dinode2, di_uid) : offsetof(Dinode1, di_uid))));
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

// Pass 3: d1 (holding d1/d2/d3) loses its entry in the root. Each of the three unreachable
// directories leads fsck_ffs -n up to the top of the chain, d1, and linkup() offers it
// ("UNREF DIR  I=..." with pinode's owner and mode, "RECONNECT? no"); nothing is reconnected,
// so pass 4 finds each directory still unreferenced ("UNREF DIR I=...", "CLEAR? no").
TEST_P(FfsCheck, DisconnectedDirectory) {
    Raw raw(m_img);
    const auto [entry, d1] = find_entry(raw, root_ino, "d1");
    ASSERT_NE(d1, 0u);
    const std::uint64_t d2 = find_entry(raw, d1, "d2").second;
    const std::uint64_t d3 = find_entry(raw, d2, "d3").second;
    ASSERT_NE(d3, 0u);
    raw.put(entry, Raw32{});  // d_ino 0: an unused entry
    std::string text;
    const CheckResult r = run(m_img, &text);
    if (std::getenv("UKFS_SHOW_FSCK"))
        std::cout << text;
    EXPECT_EQ(r.exit_code, 8) << text;
    const std::string top = fmt::format("UNREF DIR I={}", d1);
    std::vector<std::uint64_t> dirs = {d1, d2, d3};
    std::sort(dirs.begin(), dirs.end());
    std::vector<std::string> expected = {top, top, top};
    for (auto d : dirs)
        expected.push_back(fmt::format("UNREF DIR I={}", d));
    EXPECT_EQ(r.problems, expected) << text;
    const std::string linkup =
        fmt::format("UNREF DIR  I={}  OWNER={} MODE={:o}\nSIZE=", d1, uid(raw, d1), raw.mode(d1));
    EXPECT_EQ(count(text, linkup), 3u) << text;
    const auto phase3 = text.find("** Phase 3");
    const auto phase4 = text.find("** Phase 4");
    ASSERT_LT(phase3, phase4);
    const std::string p3 = text.substr(phase3, phase4 - phase3);
    EXPECT_EQ(count(p3, " \nRECONNECT? no\n\n"), 3u) << p3;
    const std::string p4 = text.substr(phase4);
    for (auto d : dirs)
        EXPECT_NE(p4.find(fmt::format("UNREF DIR I={}  OWNER={} MODE={:o}\n", d, uid(raw, d),
                                      raw.mode(d))),
                  std::string::npos)
            << p4;
    EXPECT_EQ(count(p4, " \nCLEAR? no\n\n"), 3u) << p4;
}

// Pass 2: d1/d2's '..' names the root instead of d1. fsck_ffs -n reports it through
// fileerror() (the message, pinode, "DIR=" and the path, then "FIX? no"); d2 is still reached
// through d1's entry, so pass 3 says nothing, and pass 4 finds d1 one reference short and the
// root one over.
TEST_P(FfsCheck, WrongDotDot) {
    Raw raw(m_img);
    const std::uint64_t d1 = find_entry(raw, root_ino, "d1").second;
    ASSERT_NE(d1, 0u);
    const std::uint64_t d2 = find_entry(raw, d1, "d2").second;
    ASSERT_NE(d2, 0u);
    const auto [dotdot, was] = find_entry(raw, d2, "..");
    ASSERT_EQ(was, d1);
    Raw32 v;
    raw.o.set(v, root_ino);
    raw.put(dotdot, v);
    std::string text;
    const CheckResult r = run(m_img, &text);
    if (std::getenv("UKFS_SHOW_FSCK"))
        std::cout << text;
    EXPECT_EQ(r.exit_code, 8) << text;
    const std::vector<std::string> want = {
        fmt::format("BAD INODE NUMBER FOR '..' I={} NAME=/d1/d2", d2),
        fmt::format("LINK COUNT DIR I={} COUNT {} SHOULD BE {}", root_ino, raw.nlink(root_ino),
                    raw.nlink(root_ino) + 1),
        fmt::format("LINK COUNT DIR I={} COUNT {} SHOULD BE {}", d1, raw.nlink(d1),
                    raw.nlink(d1) - 1)};
    EXPECT_EQ(r.problems, want) << text;
    const std::string head =
        fmt::format("BAD INODE NUMBER FOR '..'  I={}  OWNER={} MODE={:o}\nSIZE=", d2, uid(raw, d2),
                    raw.mode(d2));
    const auto at = text.find(head);
    ASSERT_NE(at, std::string::npos) << text;
    const auto tail = text.find(" \nDIR=/d1/d2\n\nFIX? no\n\n", at);
    EXPECT_NE(tail, std::string::npos) << text;
    EXPECT_EQ(text.substr(at, tail - at).find('\n', head.size()), std::string::npos) << text;
    const auto phase3 = text.find("** Phase 3");
    const auto phase4 = text.find("** Phase 4");
    ASSERT_LT(phase3, phase4);
    EXPECT_EQ(text.substr(phase3, phase4 - phase3), "** Phase 3 - Check Connectivity\n");
}

TEST_P(FfsCheck, GarbageNeverCrashes) {
    // Scribble over the inode blocks and cg headers: the checker reports, never crashes.
    Raw raw(m_img);
    for (std::uint64_t i = 0; i < 4096; ++i) {
        const std::uint64_t off = raw.inode_off(root_ino) + (i * 7919) % (64 * 1024);
        if (off < m_img.size())
            m_img[off] = static_cast<std::byte>(i * 31);
    }
    const CheckResult r = run(m_img);
    EXPECT_EQ(r.exit_code, 8);
}

INSTANTIATE_TEST_SUITE_P(Images, FfsCheck,
                         ::testing::Values("-B le -o version=1,bsize=8192,fsize=1024",
                                           "-B be -o version=1,bsize=16384,fsize=2048",
                                           "-B le -o version=2,bsize=32768,fsize=4096",
                                           "-B be -o version=2,bsize=8192,fsize=1024",
                                           "-B le -o version=2,bsize=65536,fsize=8192",
                                           "-B le -o version=1,bsize=4096,fsize=512"));

TEST(FfsCheckSetup, NotFfs) {
    std::vector<std::byte> zero(1 << 20);
    const CheckResult r = run(zero);
    EXPECT_EQ(r.exit_code, 8);
    EXPECT_TRUE(r.reported("BAD SUPER BLOCK: MAGIC NUMBER WRONG"));
}

}  // namespace
}  // namespace uk::ffs::check

namespace uk::ffs::check {
namespace {

// Random byte edits in the metadata of small images: every run ends with a verdict.
TEST(FfsCheckHostile, MutatedMetadataNeverCrashes) {
    if (!have_makefs())
        GTEST_SKIP() << "makefs not installed";
    for (const char* opts : {"-s 1m -B le -o version=1,bsize=4096,fsize=512",
                             "-s 1m -B be -o version=2,bsize=8192,fsize=1024"}) {
        Tmp t;
        fs::create_directories(t.dir / "tree/a/b");
        write_file(t.dir / "tree/a/f", 9000, 'f');
        write_file(t.dir / "tree/a/b/g", 100, 'g');
        fs::create_symlink("f", t.dir / "tree/a/l");
        const std::vector<std::byte> base = makefs(t, opts);
        ASSERT_FALSE(base.empty());
        std::uint32_t seed = 12345;
        auto rnd = [&] {
            seed = seed * 1103515245u + 12345u;
            return seed >> 8;
        };
        const std::size_t span = std::min<std::size_t>(base.size(), 256 * 1024);
        for (int round = 0; round < 150; ++round) {
            std::vector<std::byte> img = base;
            const int edits = 1 + static_cast<int>(rnd() % 16);
            for (int e = 0; e < edits; ++e)
                img[rnd() % span] = static_cast<std::byte>(rnd());
            io::MemoryDevice dev(std::move(img), true);
            auto r = check(dev, {}, {});
            if (r) {
                EXPECT_TRUE(r->exit_code == 0 || r->exit_code == 8);
            }
        }
    }
}

}  // namespace
}  // namespace uk::ffs::check
