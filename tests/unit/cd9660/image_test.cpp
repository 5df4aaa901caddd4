// Images made at test time by xorriso (-as mkisofs) and makefs, mounted read-only through the
// public C++ API (uk::Mount::open), compared with their source trees as each extension allows:
// (xorriso -as mkisofs always writes Rock Ridge unless --norock.)
// Rock Ridge (names, modes, owners, times, symlinks, devices, relocated deep directories),
// Joliet (names as given, no modes), plain ISO 9660 (NetBSD's lower-case, version-less names,
// or as the iso_args flags ask). Also: appended sessions, hybrid images with a partition table,
// a file over 4 GiB (level 3 multi-extent), read-write mounts, type detection.
#include <sys/statvfs.h>

#include <cctype>
#include <cstring>
#include <atomic>
#include <set>
#include <thread>

#include <rump/ukfs.h>

#include <gtest/gtest.h>
#include <ukfs/netbsd.h>

#include "io/block_device.hpp"
#include "io/partition/partition.hpp"
#include "support.hpp"

namespace uk::cd9660::test {
namespace {

std::string xorriso_mkisofs(const std::string& opts, const fs::path& src, const fs::path& img) {
    return "xorriso -as mkisofs " + opts + " -o " + img.string() + " " + src.string();
}

class Cd9660 : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!have_tool("xorriso"))
            return;
        s_dir = new TempDir;
        build_full_tree(s_dir->path() / "full");
        build_joliet_tree(s_dir->path() / "joliet");
        build_plain_tree(s_dir->path() / "plain");
    }
    static void TearDownTestSuite() {
        delete s_dir;
        s_dir = nullptr;
    }
    void SetUp() override {
        if (s_dir == nullptr)
            GTEST_SKIP() << "xorriso is not installed";
    }
    static fs::path src(const char* name) { return s_dir->path() / name; }
    // Make an image; fail the test when the tool fails.
    static void make(const std::string& cmd) { ASSERT_EQ(run(cmd), 0) << cmd; }

    static TempDir* s_dir;
    TempDir work;
};
TempDir* Cd9660::s_dir = nullptr;

iso_args flags_args(int flags) {
    iso_args a{};
    a.flags = flags;
    return a;
}

TEST_F(Cd9660, RockRidge) {
    const fs::path img = work.path() / "rr.iso";
    make(xorriso_mkisofs("-R", src("full"), img));
    const std::string before = digest(img);
    {
        auto m = Mount::open(img.string(), ro());
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_GT(compare_tree(*m, src("full"), {}), 330u);
        auto s = m->statfs();
        ASSERT_TRUE(s);
        EXPECT_EQ(s->block_size, 2048u);
        EXPECT_EQ(s->name_max, 255u);
        // Nothing may be changed.
        EXPECT_EQ(m->mkdir("/new").error().errnum(), EROFS);
        EXPECT_EQ(m->remove("/hello.txt").error().errnum(), EROFS);
    }
    EXPECT_EQ(digest(img), before) << "a read-only mount changed the image";
}

TEST_F(Cd9660, RockRidgeRelocatedDirectories) {
    const fs::path img = work.path() / "reloc.iso";
    make(xorriso_mkisofs("-R -rr_reloc_dir rr_moved", src("full"), img));
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_GT(compare_tree(*m, src("full"), {}), 330u);
    // The moved directory is reached through its CL entry, with one inode number.
    std::string p;
    for (int i = 1; i <= 12; ++i)
        p += "/level" + std::to_string(i);
    auto bottom = m->stat(p + "/bottom.txt");
    ASSERT_TRUE(bottom) << bottom.error().describe();
    auto a = m->stat(p);
    auto b = m->stat(p + "/../level12");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->st_ino, b->st_ino);
    // The relocation directory shows no moved entries.
    // The relocation directory (which xorriso hides from the Rock Ridge tree) shows no moved
    // entries if it shows at all.
    if (auto moved = m->list("/rr_moved")) {
        for (const auto& e : *moved)
            EXPECT_TRUE(e.name == "." || e.name == "..") << e.name;
    }
}

TEST_F(Cd9660, ConcurrentReaders) {
    // One mount, several threads: lookups (with their shared hints), listings, reads.
    const fs::path img = work.path() / "rr.iso";
    make(xorriso_mkisofs("-R -rr_reloc_dir rr_moved", src("full"), img));
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; i += 1 + t) {
                const std::string name = "entry-" + std::to_string(i) + "-with-a-longer-name";
                auto data = m->read_file("/many/" + name);
                if (!data || *data != pattern(static_cast<std::size_t>(i),
                                              static_cast<std::uint32_t>(i)))
                    ++bad;
                if (i % 50 == 0 && !m->list("/many"))
                    ++bad;
                if (i % 60 == 0 && !m->stat("/level1/level2/level3/level4/level5/level6/level7/"
                                            "level8/level9/level10/level11/level12/bottom.txt"))
                    ++bad;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(bad.load(), 0);
}

TEST_F(Cd9660, RockRidgeAndJolietPrefersRockRidge) {
    const fs::path img = work.path() / "rj.iso";
    make(xorriso_mkisofs("-R -J", src("full"), img));
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_GT(compare_tree(*m, src("full"), {}), 330u);
}

TEST_F(Cd9660, Joliet) {
    const fs::path img = work.path() / "j.iso";
    make(xorriso_mkisofs("--norock -J", src("joliet"), img));
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    Expect ex;
    ex.modes = false;
    ex.specials = false;
    EXPECT_GE(compare_tree(*m, src("joliet"), ex), 13u);
    EXPECT_TRUE(m->stat("/Mixed Case Dir/Inner.Dir/data.bin"));
}

TEST_F(Cd9660, NoRripUsesJoliet) {
    const fs::path img = work.path() / "rj.iso";
    make(xorriso_mkisofs("-R -J", src("joliet"), img));
    const iso_args a = flags_args(ISOFSMNT_NORRIP);
    auto m = Mount::open(img.string(), ro(&a, sizeof a));
    ASSERT_TRUE(m) << m.error().describe();
    Expect ex;
    ex.modes = false;
    ex.specials = false;
    EXPECT_GE(compare_tree(*m, src("joliet"), ex), 13u);
}

TEST_F(Cd9660, NoRripNoJolietIsPlain) {
    const fs::path img = work.path() / "rj.iso";
    make(xorriso_mkisofs("-R -J", src("plain"), img));
    const iso_args a = flags_args(ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET);
    auto m = Mount::open(img.string(), ro(&a, sizeof a));
    ASSERT_TRUE(m) << m.error().describe();
    Expect ex;
    ex.modes = false;
    ex.specials = false;
    EXPECT_EQ(compare_tree(*m, src("plain"), ex), 6u);
}

TEST_F(Cd9660, PlainIso) {
    const fs::path img = work.path() / "plain.iso";
    make(xorriso_mkisofs("--norock", src("plain"), img));
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    Expect ex;
    ex.modes = false;
    ex.specials = false;
    EXPECT_EQ(compare_tree(*m, src("plain"), ex), 6u);
    // NetBSD's isofncmp: plain names are found whatever their case.
    EXPECT_TRUE(m->stat("/README.TXT"));
    auto st = m->stat("/dir1");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->st_nlink, 1u);
}

TEST_F(Cd9660, PlainIsoNoCaseTrans) {
    const fs::path img = work.path() / "plain.iso";
    make(xorriso_mkisofs("--norock", src("plain"), img));
    const iso_args a = flags_args(ISOFSMNT_NOCASETRANS);
    auto m = Mount::open(img.string(), ro(&a, sizeof a));
    ASSERT_TRUE(m) << m.error().describe();
    Expect ex;
    ex.modes = false;
    ex.specials = false;
    ex.name = [](const std::string& n) {
        std::string u = n;
        for (char& c : u)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return u;
    };
    EXPECT_EQ(compare_tree(*m, src("plain"), ex), 6u);
}

TEST_F(Cd9660, PlainIsoKeepsVersionsWithGens) {
    const fs::path img = work.path() / "plain.iso";
    make(xorriso_mkisofs("--norock", src("plain"), img));
    const iso_args a = flags_args(ISOFSMNT_GENS);
    auto m = Mount::open(img.string(), ro(&a, sizeof a));
    ASSERT_TRUE(m) << m.error().describe();
    auto list = m->list("/");
    ASSERT_TRUE(list) << list.error().describe();
    std::set<std::string> names;
    for (const auto& e : *list)
        names.insert(e.name);
    EXPECT_TRUE(names.count("readme.txt;1")) << "names keep their version";
    EXPECT_TRUE(names.count("dir1")) << "directories have no version";
    auto f = m->read_file("/readme.txt;1");
    ASSERT_TRUE(f) << f.error().describe();
    EXPECT_EQ(*f, read_host(src("plain") / "readme.txt"));
    // A name without a version finds the file too (NetBSD's isofncmp).
    auto g = m->read_file("/README.TXT");
    ASSERT_TRUE(g) << g.error().describe();
    EXPECT_EQ(*g, *f);
}

TEST_F(Cd9660, Makefs) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    const fs::path img = work.path() / "makefs.iso";
    make("makefs -t cd9660 -o rockridge " + img.string() + " " + src("full").string());
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    Expect ex;
    ex.link = [](const std::string& t) {  // makefs drops empty components ("a//b" -> "a/b")
        std::string out;
        for (char c : t)
            if (!(c == '/' && !out.empty() && out.back() == '/'))
                out += c;
        return out;
    };
    EXPECT_GT(compare_tree(*m, src("full"), ex), 330u);
}

TEST_F(Cd9660, AppendedSessionInPlace) {
    // xorriso -dev IMG ... -commit: the new session follows the old one and the descriptors at
    // block 16 are rewritten to describe it.
    const fs::path img = work.path() / "ms.iso";
    make(xorriso_mkisofs("-R", src("plain"), img));
    make("xorriso -dev " + img.string() + " -map " + src("joliet").string() +
         " /added -rm /data -- -commit");
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_FALSE(m->stat("/data")) << "removed in the second session";
    auto f = m->read_file("/added/ReadMe.TXT");
    ASSERT_TRUE(f) << f.error().describe();
    EXPECT_EQ(*f, read_host(src("joliet") / "ReadMe.TXT"));
    auto g = m->read_file("/dir1/a.bin");  // data of the first session
    ASSERT_TRUE(g) << g.error().describe();
    EXPECT_EQ(*g, read_host(src("plain") / "dir1" / "a.bin"));
}

TEST_F(Cd9660, AppendedSessionWithMsinfo) {
    // xorriso -as mkisofs -C START,NEXT -M OLD writes a session meant for block NEXT; placed
    // there, the image has two descriptor sets and the last one must be used.
    const fs::path img = work.path() / "ms.iso";
    const fs::path s2 = work.path() / "s2.bin";
    make(xorriso_mkisofs("-R", src("plain"), img));
    const std::uint64_t blocks = fs::file_size(img) / 2048;
    const std::uint64_t next = (blocks + 31) / 32 * 32;
    make("xorriso -as mkisofs -R -C 0," + std::to_string(next) + " -M " + img.string() + " -o " +
         s2.string() + " -graft-points /second=" + src("joliet").string());
    make("dd if=" + s2.string() + " of=" + img.string() + " bs=2048 seek=" +
         std::to_string(next) + " conv=notrunc");
    auto m = Mount::open(img.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    auto f = m->read_file("/second/Mixed Case Dir/Inner.Dir/data.bin");
    ASSERT_TRUE(f) << f.error().describe();
    EXPECT_EQ(*f, read_host(src("joliet") / "Mixed Case Dir" / "Inner.Dir" / "data.bin"));
    auto g = m->read_file("/readme.txt");  // carried over from the first session
    ASSERT_TRUE(g) << g.error().describe();
    EXPECT_EQ(*g, read_host(src("plain") / "readme.txt"));
}

TEST_F(Cd9660, HybridWithAppendedPartition) {
    const fs::path img = work.path() / "hy.iso";
    const fs::path part = work.path() / "part.bin";
    write_file(part, pattern(1 << 20, 99));
    make(xorriso_mkisofs("-R -append_partition 2 0x83 " + part.string(), src("plain"), img));
    {
        auto m = Mount::open(img.string(), ro());
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_EQ(compare_tree(*m, src("plain"), {}), 6u);
    }
    {
        auto m = Mount::open(img.string() + "%MBR:1%", ro());
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_EQ(compare_tree(*m, src("plain"), {}), 6u);
    }
    auto whole = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(whole);
    auto spec = io::parse_selector("x%MBR:2%");
    ASSERT_TRUE(spec) << spec.error().describe();
    auto dev = io::open_partition(std::shared_ptr<io::BlockDevice>(std::move(*whole)), *spec);
    ASSERT_TRUE(dev) << dev.error().describe();
    std::vector<std::byte> bytes(1 << 20);
    ASSERT_TRUE((*dev)->read_at(0, bytes));
    EXPECT_TRUE(bytes == pattern(1 << 20, 99)) << "partition 2 holds the appended file";
}

TEST_F(Cd9660, HybridWithPartitionOffset) {
    // -partition_offset 16: partition 1 starts 32 KiB in and is an ISO 9660 image by itself.
    const fs::path img = work.path() / "hy.iso";
    const fs::path part = work.path() / "part.bin";
    write_file(part, pattern(1 << 16, 98));
    make(xorriso_mkisofs("-R -partition_offset 16 -append_partition 2 0x83 " + part.string(),
                         src("plain"), img));
    for (const std::string& dev : {img.string(), img.string() + "%MBR:1%"}) {
        auto m = Mount::open(dev, ro());
        ASSERT_TRUE(m) << dev << ": " << m.error().describe();
        EXPECT_EQ(compare_tree(*m, src("plain"), {}), 6u) << dev;
    }
}

// A bootable hybrid image as distributions make them (xorriso -isohybrid-mbr with ISOLINUX's
// MBR template and El Torito boot image; with -partition_offset 16 partition 1 starts 32 KiB
// in and is an ISO 9660 image by itself): the whole device and its MBR partition 1 both open
// as cd9660, found without a type.
TEST_F(Cd9660, IsohybridMbr) {
    const fs::path mbr = "/usr/lib/ISOLINUX/isohdpfx.bin";
    const fs::path loader = "/usr/lib/ISOLINUX/isolinux.bin";
    if (!fs::exists(mbr) || !fs::exists(loader))
        GTEST_SKIP() << "isolinux is not installed (no " << mbr << ")";
    const fs::path tree = work.path() / "boot";
    fs::create_directories(tree / "isolinux");
    fs::create_directories(tree / "docs");
    fs::copy_file(loader, tree / "isolinux" / "isolinux.bin");
    const auto readme = pattern(5000, 77);
    write_file(tree / "docs" / "readme.txt", readme);
    for (const std::string& offset : {std::string(), std::string("-partition_offset 16 ")}) {
        SCOPED_TRACE(offset.empty() ? "partition at 0" : "partition_offset 16");
        const fs::path img = work.path() / "hybrid.iso";
        fs::remove(img);
        make(xorriso_mkisofs("-R -J -isohybrid-mbr " + mbr.string() + " " + offset +
                                 "-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot "
                                 "-boot-load-size 4 -boot-info-table",
                             tree, img));
        const auto head = read_host(img);
        ASSERT_GT(head.size(), 512u);
        EXPECT_EQ(head[510], std::byte{0x55});
        EXPECT_EQ(head[511], std::byte{0xAA});
        for (const std::string& dev : {img.string(), img.string() + "%MBR:1%"}) {
            auto m = Mount::open(dev, ro());
            ASSERT_TRUE(m) << dev << ": " << m.error().describe();
            EXPECT_EQ(m->type(), "cd9660") << dev;
            auto data = m->read_file("/docs/readme.txt");
            ASSERT_TRUE(data) << dev << ": " << data.error().describe();
            EXPECT_TRUE(*data == readme) << dev;
            auto names = m->list("/isolinux");
            ASSERT_TRUE(names) << dev << ": " << names.error().describe();
            std::set<std::string> got;
            for (const auto& e : *names)
                if (e.name != "." && e.name != "..")
                    got.insert(e.name);
            EXPECT_EQ(got, (std::set<std::string>{"boot.cat", "isolinux.bin"})) << dev;
        }
    }
}

TEST_F(Cd9660, ReadWriteMountIsRefused) {
    const fs::path img = work.path() / "p.iso";
    make(xorriso_mkisofs("-R", src("plain"), img));
    MountOptions o = ro();
    o.read_only = false;
    auto m = Mount::open(img.string(), o);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EROFS) << m.error().describe();
}

TEST_F(Cd9660, TypeIsDetected) {
    const fs::path img = work.path() / "p.iso";
    make(xorriso_mkisofs("-R", src("plain"), img));
    MountOptions o = ro();
    o.type = "";
    auto m = Mount::open(img.string(), o);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ(m->type(), "cd9660");
}

TEST_F(Cd9660, ShortArgsAreRefused) {
    const fs::path img = work.path() / "p.iso";
    make(xorriso_mkisofs("-R", src("plain"), img));
    int flags = 0;
    auto m = Mount::open(img.string(), ro(&flags, sizeof flags));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL);
}

// A file over 4 GiB: ISO level 3 stores it as several extents. xorriso writes a real image of
// that size; we pipe it through dd conv=sparse so that its zeros take no disk, and still run
// only with room for the worst case (a file system without holes), and remove it afterwards.
TEST_F(Cd9660, FileOver4GiB) {
    const std::uint64_t size = (std::uint64_t{9} << 29) + 12345;  // 4.5 GiB + a bit
    struct statvfs sv{};
    ASSERT_EQ(::statvfs(work.path().c_str(), &sv), 0);
    const std::uint64_t free_bytes = std::uint64_t{sv.f_bavail} * sv.f_frsize;
    if (free_bytes < size + (std::uint64_t{4} << 30))
        GTEST_SKIP() << "needs " << (size >> 30) + 4 << " GiB free in /tmp";
    const fs::path srcdir = work.path() / "bigsrc";
    fs::create_directories(srcdir);
    const fs::path big = srcdir / "huge";
    {
        write_file(big, pattern(4096, 50));
        fs::resize_file(big, size);
    }
    // Marks across the 4 GiB boundary and at the end; the rest is a hole.
    const std::uint64_t marks[] = {(std::uint64_t{4} << 30) - 5000, size - 3000};
    for (std::uint64_t at : marks) {
        const std::string cmd = "printf 'MARK-%s' " + std::to_string(at) + " | dd of=" +
                                big.string() + " bs=1 seek=" + std::to_string(at) +
                                " conv=notrunc";
        make(cmd);
    }
    const fs::path img = work.path() / "big.iso";
    make("bash -o pipefail -c 'xorriso -as mkisofs -R -iso-level 3 -o - " + srcdir.string() +
         " | dd of=" + img.string() + " bs=1M conv=sparse iflag=fullblock'");
    fs::remove(big);
    {
        auto m = Mount::open(img.string(), ro());
        ASSERT_TRUE(m) << m.error().describe();
        auto st = m->stat("/huge");
        ASSERT_TRUE(st) << st.error().describe();
        EXPECT_EQ(static_cast<std::uint64_t>(st->st_size), size);
        std::vector<std::byte> buf(4096);
        auto n = m->read("/huge", 0, buf);
        ASSERT_TRUE(n);
        EXPECT_TRUE(buf == pattern(4096, 50));
        for (std::uint64_t at : marks) {
            const std::string want = "MARK-" + std::to_string(at);
            std::vector<std::byte> b(want.size() + 2000);
            auto got = m->read("/huge", at - 1000, b);
            ASSERT_TRUE(got) << got.error().describe();
            ASSERT_EQ(*got, std::min<std::uint64_t>(b.size(), size - (at - 1000)));
            for (std::size_t i = 0; i < 1000; ++i)
                ASSERT_EQ(b[i], std::byte{0}) << "byte " << at - 1000 + i;
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()) + 1000, want.size()),
                      want);
        }
        // A read across the extent boundary (xorriso cuts extents below 4 GiB).
        std::vector<std::byte> across(std::size_t{3} << 20);
        auto got = m->read("/huge", (std::uint64_t{4} << 30) - (std::uint64_t{1} << 20), across);
        ASSERT_TRUE(got) << got.error().describe();
        EXPECT_EQ(*got, across.size());
    }
    fs::remove(img);
}

}  // namespace
}  // namespace uk::cd9660::test

// The NetBSD C API: ukfs_mount(MOUNT_CD9660, ..., struct iso_args) as a libukfs client calls it.

namespace uk::cd9660::test {
namespace {

TEST_F(Cd9660, NetBsdCApi) {
    const fs::path img = work.path() / "rj.iso";
    make(xorriso_mkisofs("-R -J", src("plain"), img));
    ASSERT_EQ(ukfs_init(), 0);
    // Read-write is refused with EROFS.
    errno = 0;
    EXPECT_EQ(ukfs_mount(MOUNT_CD9660, img.c_str(), UKFS_DEFAULTMP, 0, nullptr, 0), nullptr);
    EXPECT_EQ(errno, EROFS);
    iso_args args{};
    args.fspec = img.c_str();
    args.flags = ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET | ISOFSMNT_NOCASETRANS;
    struct ukfs* u = ukfs_mount(MOUNT_CD9660, img.c_str(), UKFS_DEFAULTMP, MNT_RDONLY, &args,
                                sizeof args);
    ASSERT_NE(u, nullptr) << std::strerror(errno);
    struct stat st{};
    EXPECT_EQ(ukfs_stat(u, "/README.TXT", &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_size, 123);
    EXPECT_EQ(st.st_mode & 07777, 0555u);
    std::vector<std::uint8_t> buf(200);
    EXPECT_EQ(ukfs_read(u, "/README.TXT", 0, buf.data(), buf.size()), 123);
    EXPECT_EQ(ukfs_release(u, 0), 0);
}

}  // namespace
}  // namespace uk::cd9660::test
