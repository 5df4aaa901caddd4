// Read-write mounts of FFS images made by makefs, judged by others (ORACLES.md): the same
// operations run through the driver and on a host directory (the model); after unmount our
// checker (fsck_ffs' phases) must find nothing, The Sleuth Kit (fls, icat, istat) must show the
// model's names, bytes, sizes, owners and link counts, and a read-only remount must show the
// model's tree. Then deep and sparse files, freeing everything, the refusals, and a random
// operation sequence against the model.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/model.hpp"
#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/newfs.hpp"
#include "image_support.hpp"

namespace uk::ffs::test {
namespace {

struct Variant {
    const char* name;
    const char* opts;  // makefs' options, or our newfs' -o words (newfs_params) when `ours`
    bool ufs2;
    bool ours = false;  // made by our newfs: a UFS2 superblock at 65536, where TSK looks
};

const Variant variants[] = {
    {"ufs2_le_8k_newfs", "version=2,endian=le,bsize=8192,fsize=1024", true, true},
    {"ufs2_be_16k_newfs", "version=2,endian=be,bsize=16384,fsize=2048", true, true},
    {"ufs1_be_8k_newfs", "version=1,endian=be,bsize=8192,fsize=1024", false, true},
    {"ufs1_le_8k", "-o version=1 -B le -s 32m -b 8192 -f 1024", false},
    {"ufs2_be_8k", "-o version=2 -B be -s 32m -b 8192 -f 1024", true},
    {"ufs2_le_4k", "-o version=2 -B le -s 32m -b 4096 -f 512", true},
    {"ufs1_be_32k", "-o version=1 -B be -s 32m -b 32768 -f 4096", false},
    {"ufs2_le_32k", "-o version=2 -B le -s 32m -b 32768 -f 4096", true},
    {"ufs1_le_4k_frag1", "-o version=1 -B le -s 32m -b 4096 -f 4096", false},
};

using uk::test::Both;

// Fixed times on every node (children first, so a directory's own time is the last set).
void stamp_times(Both& both, const fs::path& model) {
    auto paths = uk::test::walk_host(model);
    std::reverse(paths.begin(), paths.end());
    long k = 0;
    for (const fs::path& p : paths)
        both.utimes("/" + p.lexically_relative(model).string(),
                    timespec{1'600'000'000 + 1000 * k, 123'456'789 + k++});
    both.utimes("/", timespec{1'700'000'000, 987'654'321});
}

// Our checker finds nothing wrong.
void expect_clean(const fs::path& img) {
    auto dev = io::ImageFile::open(img.string(), true);
    ASSERT_TRUE(dev);
    std::string out;
    auto r = check::check(**dev, {}, [&](std::string_view s) { out += s; });
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->exit_code, 0) << out;
    EXPECT_TRUE(r->problems.empty()) << out;
}

// The Sleuth Kit reads what we wrote: fls's names, icat's bytes, istat's numbers.
void expect_tsk_sees(const fs::path& img, const fs::path& model, bool ufs2) {
    if (!have_tool("fls") || !have_tool("icat") || !have_tool("istat")) {
        std::cerr << "note: The Sleuth Kit is not installed; skipping its reading\n";
        return;
    }
    {
        auto dev = io::ImageFile::open(img.string(), true);
        ASSERT_TRUE(dev);
        auto found = find_superblock(**dev);
        ASSERT_TRUE(found);
        // TSK finds a UFS2 superblock at 65536 only; makefs puts it at 8192 (newfs at 65536).
        if (ufs2 && found->offset != sblock_ufs2) {
            std::cerr << "note: The Sleuth Kit cannot find makefs' UFS2 superblock; skipped\n";
            return;
        }
    }
    const std::string type = ufs2 ? "ufs2" : "ufs1";
    if (have_tool("fsstat")) {
        const std::string stat = capture(fmt::format("fsstat -f {} {}", type, img.string()));
        EXPECT_NE(stat.find(ufs2 ? "File System Type: UFS 2" : "File System Type: UFS 1"),
                  std::string::npos)
            << stat;
    }
    const std::string listing = capture("fls -r -p -f " + type + " " + img.string());
    std::map<std::string, std::uint64_t> seen;
    std::size_t at = 0;
    while (at < listing.size()) {
        const std::size_t end = listing.find('\n', at);
        const std::string line = listing.substr(at, end - at);
        at = end == std::string::npos ? listing.size() : end + 1;
        const std::size_t tab = line.find('\t');
        const std::size_t colon = line.find(':');
        // Deleted names (" * ") and TSK's own $OrphanFiles are not entries.
        if (tab == std::string::npos || colon == std::string::npos || line.find(" * ") < tab ||
            line.compare(tab + 1, 12, "$OrphanFiles") == 0)
            continue;
        const std::size_t num = line.find_first_of("0123456789", 3);
        seen[line.substr(tab + 1)] = std::stoull(line.substr(num, colon - num));
    }
    std::set<std::string> want;
    for (const fs::path& p : uk::test::walk_host(model))
        want.insert(p.lexically_relative(model).string());
    std::set<std::string> got;
    for (const auto& [name, ino] : seen)
        got.insert(name);
    ASSERT_EQ(want, got) << listing;
    std::size_t k = 0;
    for (const auto& [name, ino] : seen) {
        if (name.rfind("many/", 0) == 0 && k++ % 16 != 0)
            continue;  // a sample of the big directory is enough
        const fs::path p = model / name;
        struct stat st {};
        ASSERT_EQ(::lstat(p.c_str(), &st), 0);
        const std::string info = capture(fmt::format("istat -f {} {} {}", type, img.string(), ino));
        EXPECT_NE(info.find(fmt::format("uid / gid: {} / {}\n", st.st_uid, st.st_gid)),
                  std::string::npos)
            << name << "\n"
            << info;
        EXPECT_NE(info.find(fmt::format("num of links: {}\n", st.st_nlink)), std::string::npos)
            << name << "\n"
            << info;
        if (S_ISREG(st.st_mode)) {
            EXPECT_NE(info.find(fmt::format("size: {}\n", st.st_size)), std::string::npos)
                << name << "\n"
                << info;
        }
        if (S_ISREG(st.st_mode)) {
            const fs::path out = img.parent_path() / "icat.out";
            ASSERT_EQ(run(fmt::format("sh -c 'icat -f {} {} {} > {}'", type, img.string(), ino,
                                      out.string())),
                      0);
            EXPECT_TRUE(read_host_file(out) == read_host_file(p)) << name;
        }
    }
}

struct Totals {
    std::uint64_t ndir, nbfree, nifree, nffree;
    bool operator==(const Totals&) const = default;
};

Totals totals(const fs::path& img) {
    auto dev = io::ImageFile::open(img.string(), true);
    EXPECT_TRUE(dev);
    auto found = find_superblock(**dev);
    EXPECT_TRUE(found);
    auto g = derive_geometry(*found, (*dev)->size());
    EXPECT_TRUE(g);
    return {g->cs_ndir, g->cs_nbfree, g->cs_nifree, g->cs_nffree};
}

class FfsWrites : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root (owners and device nodes in the model tree)";
        fs::create_directories(m_work.path() / "src");
        m_img = m_work.path() / "img";
        m_model = m_work.path() / "model";
        fs::create_directories(m_model);
        if (!GetParam().ours) {
            ASSERT_EQ(make_image(m_work.path() / "src", m_img, GetParam().opts), 0);
            return;
        }
        vfs::FormatParams params;
        for (std::string_view words = GetParam().opts; !words.empty();) {
            const std::string_view w = words.substr(0, words.find(','));
            words.remove_prefix(std::min(words.size(), w.size() + 1));
            params.emplace_back(std::string(w.substr(0, w.find('='))),
                                std::string(w.substr(w.find('=') + 1)));
        }
        write_host_file(m_img, std::vector<std::byte>(std::size_t{32} << 20));
        auto dev = io::ImageFile::open(m_img.string(), false);
        ASSERT_TRUE(dev);
        auto r = newfs_params(**dev, params);
        ASSERT_TRUE(r) << r.error().describe();
    }
    TempDir m_work;
    fs::path m_img, m_model;
};

TEST_P(FfsWrites, OperationsMatchModel) {
    const Variant& v = GetParam();
    const Totals fresh = totals(m_img);
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        Both b(**m, m_model);
        b.mkdir("/a");
        b.mkdir("/a/b");
        b.mkdir("/a/b/c", 0700);
        b.write("/empty", 0, {});
        b.write("/one", 0, pattern(1, 1));
        for (std::size_t size : {511u, 4095u, 4096u, 4097u, 100000u, 3u << 20})
            b.write("/a/f" + std::to_string(size), 0,
                    pattern(size, static_cast<std::uint32_t>(size)));
        b.write("/a/sparse", 5u << 20, pattern(5000, 9));
        b.write("/a/sparse", 5000, pattern(100, 10));
        b.write("/a/f100000", 50000, pattern(70000, 11));  // overwrite and extend
        b.write("/tail", 0, pattern(700, 12));             // a fragment tail...
        b.write("/tail2", 0, pattern(700, 13));            // ...with a neighbour
        b.write("/tail", 700, pattern(2000, 14));          // grown in place or moved
        b.write("/tail", 2700, pattern(40000, 15));        // into whole blocks
        b.truncate("/a/f4097", 10);
        b.truncate("/a/f3145728", 1000000);
        b.truncate("/one", 300000);  // grow: a hole
        b.truncate("/tail2", 5000);  // grow a tail
        b.symlink("short/target", "/a/fast");
        b.symlink(std::string(300, 'x') + "/end", "/a/slow");
        b.link("/a/f4096", "/a/b/hard");
        b.mknod("/a/fifo", S_IFIFO | 0640, 0);
        b.mknod("/a/chr", S_IFCHR | 0600, makedev(4, 5));
        b.mknod("/a/blk", S_IFBLK | 0600, makedev(300, 70000));
        b.chmod("/a/f4095", 04751);
        b.chown("/a/f4095", 1234, 5678);
        b.chown("/a/b", 70000, 80000);
        b.rename("/a/f4096", "/a/renamed");      // same directory
        b.rename("/a/renamed", "/a/b/c/moved");  // across directories
        b.rename("/a/f100000", "/one");          // over an existing file
        b.mkdir("/d1");
        b.mkdir("/d1/sub");
        b.mkdir("/d2");
        b.rename("/d1/sub", "/d2/sub");  // a directory across parents
        b.mkdir("/d3");
        b.rename("/d2/sub", "/d3");  // over an empty directory
        b.remove("/a/f4095");
        b.rmdir("/d1");
        b.mkdir("/many");
        for (int i = 0; i < 300; ++i)
            b.write(fmt::format("/many/entry-with-a-longish-name-{:05}", i), 0,
                    pattern(static_cast<std::size_t>(i % 7), static_cast<std::uint32_t>(i)));
        for (int i = 0; i < 300; i += 2)
            b.remove(fmt::format("/many/entry-with-a-longish-name-{:05}", i));
        for (int i = 0; i < 100; ++i)
            b.write(fmt::format("/many/n{:03}", i), 0, pattern(10, static_cast<std::uint32_t>(i)));
        stamp_times(b, m_model);
        auto r = (*m)->unmount(false);
        ASSERT_TRUE(r) << r.error().describe();
    }
    expect_clean(m_img);
    expect_tsk_sees(m_img, m_model, v.ufs2);
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m) << m.error().describe();
        compare_tree(**m, m_model, true);
    }
    // Remove everything: the free counts come back to the fresh image's.
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto paths = uk::test::walk_host(m_model);
        std::reverse(paths.begin(), paths.end());
        for (const fs::path& p : paths) {
            const std::string rel = "/" + p.lexically_relative(m_model).string();
            auto r = uk::test::is_real_dir(p) ? (*m)->rmdir(rel) : (*m)->remove(rel);
            ASSERT_TRUE(r) << rel << ": " << r.error().describe();
        }
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    EXPECT_EQ(totals(m_img), fresh);
}

// Files deep in the block map: single, double and triple indirect blocks, written sparsely.
TEST_P(FfsWrites, DeepSparseFile) {
    const Totals fresh = totals(m_img);
    const Geometry g = [&] {
        auto dev = io::ImageFile::open(m_img.string(), true);
        return *derive_geometry(*find_superblock(**dev), (*dev)->size());
    }();
    const std::uint64_t single = std::uint64_t{ndaddr} * g.bsize;
    const std::uint64_t dbl = single + std::uint64_t{g.nindir} * g.bsize;
    const std::uint64_t triple = dbl + std::uint64_t{g.nindir} * g.nindir * g.bsize;
    std::vector<std::uint64_t> offsets{0, single + 17, dbl + 3 * g.bsize + 5};
    if (triple + 100000 <= g.maxfilesize)
        offsets.push_back(triple + 12345);
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto fd = (*m)->open("/deep", O_RDWR | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            auto n = (*m)->write_fd(*fd, offsets[i], pattern(3 * g.bsize, 40 + i), false);
            ASSERT_TRUE(n) << n.error().describe();
        }
        ASSERT_TRUE((*m)->close(*fd));
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m);
        auto fd = (*m)->open("/deep", O_RDONLY, 0);
        ASSERT_TRUE(fd);
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            std::vector<std::byte> got(3 * g.bsize + 10);
            auto n = (*m)->read_fd(*fd, offsets[i], got);
            ASSERT_TRUE(n);
            std::vector<std::byte> want = pattern(3 * g.bsize, 40 + i);
            if (i + 1 < offsets.size())
                want.resize(got.size());
            got.resize(*n);
            EXPECT_TRUE(got == want) << "at " << offsets[i];
        }
        ASSERT_TRUE((*m)->close(*fd));
    }
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m);
        ASSERT_TRUE((*m)->truncate("/deep", dbl + 100));  // frees the triple indirect tree
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m);
        ASSERT_TRUE((*m)->remove("/deep"));
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    EXPECT_EQ(totals(m_img), fresh);
}

// A random operation sequence on a few names, against the model; the checker judges the image
// after unmount and a read-only remount must match the model.
TEST_P(FfsWrites, RandomOperations) {
    std::mt19937 rng(std::hash<std::string>{}(GetParam().name));
    const std::vector<std::string> dirs{"/", "/x/", "/y/", "/x/z/"};
    {
        auto m = mount_image(m_img, std::size_t{4} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        Both b(**m, m_model);
        b.mkdir("/x");
        b.mkdir("/y");
        b.mkdir("/x/z");
        auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
        for (int step = 0; step < 400; ++step) {
            const std::string p = dirs[pick(dirs.size())] + "f" + std::to_string(pick(12));
            const bool exists = fs::exists(fs::symlink_status(b.host(p)));
            const bool is_file = exists && fs::is_regular_file(fs::symlink_status(b.host(p)));
            switch (pick(6)) {
            case 0:
            case 1:
                if (!exists || is_file) {
                    const std::size_t len = pick(4) == 0 ? pick(300000) : pick(9000);
                    b.write(p, pick(3) == 0 ? pick(200000) : 0,
                            pattern(len, static_cast<std::uint32_t>(step)));
                }
                break;
            case 2:
                if (is_file)
                    b.truncate(p, pick(2) == 0 ? pick(5000) : pick(400000));
                break;
            case 3:
                if (exists)
                    b.remove(p);
                break;
            case 4: {
                const std::string q = dirs[pick(dirs.size())] + "f" + std::to_string(pick(12));
                const bool q_exists = fs::exists(fs::symlink_status(b.host(q)));
                if (is_file && p != q && (!q_exists || fs::is_regular_file(b.host(q))))
                    b.rename(p, q);
                break;
            }
            case 5:
                if (!exists)
                    b.symlink(std::string(pick(200) + 1, 'l'), p);
                break;
            }
            if (::testing::Test::HasFatalFailure())
                return;
        }
        stamp_times(b, m_model);
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    auto m = mount_image(m_img);
    ASSERT_TRUE(m) << m.error().describe();
    compare_tree(**m, m_model, true);
}

// Filling the file system: every write and create that fails with ENOSPC leaves it consistent.
TEST_P(FfsWrites, FullFileSystem) {
    const Totals fresh = totals(m_img);
    std::vector<std::string> made;
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto fd = (*m)->open("/big", O_RDWR | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        made.push_back("/big");
        std::uint64_t off = 0;
        const std::vector<std::byte> chunk = pattern(1 << 20, 5);
        for (;;) {
            auto n = (*m)->write_fd(*fd, off, chunk, false);
            if (!n) {
                EXPECT_EQ(n.error().errnum(), ENOSPC) << n.error().describe();
                break;
            }
            off += *n;
            ASSERT_LT(off, std::uint64_t{64} << 20);
        }
        ASSERT_TRUE((*m)->close(*fd));
        for (int i = 0; i < 100000; ++i) {
            const std::string p = fmt::format("/s{}", i);
            auto f = (*m)->open(p, O_RDWR | O_CREAT, 0644);
            if (!f)
                break;
            made.push_back(p);
            auto n = (*m)->write_fd(*f, 0, pattern(700 + i % 3000, 6), false);
            ASSERT_TRUE((*m)->close(*f));
            if (!n) {
                EXPECT_EQ(n.error().errnum(), ENOSPC) << n.error().describe();
                break;
            }
        }
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m);
        for (const std::string& p : made)
            ASSERT_TRUE((*m)->remove(p)) << p;
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(m_img);
    EXPECT_EQ(totals(m_img), fresh);
}

INSTANTIATE_TEST_SUITE_P(Makefs, FfsWrites, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

// Patch a field of the primary superblock of `img` (UFS2 at 65536, UFS1 at 8192).
template <class F>
void patch_super(const fs::path& img, F&& change) {
    auto dev = io::ImageFile::open(img.string(), false);
    ASSERT_TRUE(dev);
    auto found = find_superblock(**dev);
    ASSERT_TRUE(found);
    change(found->sb, found->order);
    ASSERT_TRUE((*dev)->write_at(found->offset, std::as_bytes(std::span(&found->sb, 1))));
}

struct Refusal {
    const char* name;
    bool ufs2;
    void (*change)(Superblock&, const Order&);
};

const Refusal refusals[] = {
    {"not_clean", true, [](Superblock& sb, const Order&) { sb.fs_clean = 0; }},
    {"unclean_flag", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_unclean); }},
    {"needs_fsck", false,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_needsfsck); }},
    {"suj", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_suj); }},
    {"softdep", false,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_dosoftdep); }},
    {"gjournal", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | fs_gjournal); }},
    {"unknown_flag", true,
     [](Superblock& sb, const Order& o) { o.set(sb.fs_flags, o.u32(sb.fs_flags) | 0x10000u); }},
    {"inodefmt_42", false,
     [](Superblock& sb, const Order& o) {
         o.set(sb.fs_old_inodefmt, static_cast<std::uint32_t>(fs_42inodefmt));
         o.set(sb.fs_maxsymlinklen, 0u);
     }},
};

class FfsRefusals : public ::testing::TestWithParam<Refusal> {};

TEST_P(FfsRefusals, ReadWriteIsRefusedReadOnlyWorks) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    const Refusal& r = GetParam();
    TempDir work;
    fs::create_directories(work.path() / "src");
    write_host_file(work.path() / "src/f", pattern(100, 1));
    const fs::path img = work.path() / "img";
    ASSERT_EQ(
        make_image(work.path() / "src", img, r.ufs2 ? "-o version=2 -s 8m" : "-o version=1 -s 8m"),
        0);
    patch_super(img, r.change);
    const std::string before = file_digest(img);
    auto rw = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().errnum(), EROFS);
    EXPECT_NE(rw.error().message().find("cannot mount read-write"), std::string::npos)
        << rw.error().message();
    EXPECT_EQ(file_digest(img), before);
    auto ro = mount_image(img);
    ASSERT_TRUE(ro) << ro.error().describe();
    auto attr = (*ro)->stat("/", vfs::Follow::yes);  // (4.2BSD names would read as garbage)
    ASSERT_TRUE(attr) << attr.error().describe();
    EXPECT_EQ(attr->type, vfs::VType::dir);
}

INSTANTIATE_TEST_SUITE_P(Flags, FfsRefusals, ::testing::ValuesIn(refusals),
                         [](const auto& info) { return std::string(info.param.name); });

// FS_ISCLEAN is clear on the device while mounted read-write and set again at unmount.
TEST(FfsWrite, CleanFlagWhileMounted) {
    if (!have_tool("makefs"))
        GTEST_SKIP() << "makefs is not installed";
    TempDir work;
    fs::create_directories(work.path() / "src");
    const fs::path img = work.path() / "img";
    ASSERT_EQ(make_image(work.path() / "src", img, "-o version=2 -s 8m"), 0);
    auto clean = [&] {
        auto dev = io::ImageFile::open(img.string(), true);
        return find_superblock(**dev)->sb.fs_clean;
    };
    EXPECT_EQ(clean() & fs_isclean, fs_isclean);
    auto m = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ(clean() & fs_isclean, 0);
    ASSERT_TRUE((*m)->mkdir("/d", 0755));
    ASSERT_TRUE((*m)->unmount(false));
    EXPECT_EQ(clean() & fs_isclean, fs_isclean);
    expect_clean(img);
}

// The reserve (fs_minfree): a writer that is not root gets ENOSPC when only the reserve is
// left, as NetBSD's ffs_alloc gives it; root then writes into the reserve.
TEST(FfsWrite, MinfreeReserveIsRootsOnly) {
    TempDir work;
    const fs::path img = work.path() / "img";
    write_host_file(img, std::vector<std::byte>(std::size_t{8} << 20));
    {
        auto dev = io::ImageFile::open(img.string(), false);
        ASSERT_TRUE(dev);
        ASSERT_TRUE(newfs_params(**dev, {{"version", "2"}, {"minfree", "10"}}));
    }
    auto m = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_TRUE(m) << m.error().describe();
    ASSERT_TRUE((*m)->chmod("/", 0777, vfs::Follow::yes));
    // Write 64 KiB chunks to `path` up to `limit` bytes: the bytes written, or the error.
    const auto write_until_full = [&](const std::string& path,
                                      std::uint64_t limit) -> Result<std::uint64_t> {
        const int fd = UKFS_TRY((*m)->open(path, O_RDWR | O_CREAT, 0644));
        const std::vector<std::byte> chunk = pattern(64 << 10, 7);
        std::uint64_t off = 0;
        Result<std::size_t> n = std::size_t{0};
        while (off < limit && (n = (*m)->write_fd(fd, off, chunk, false)))
            off += *n;
        UKFS_TRY((*m)->close(fd));
        if (!n)
            return n.error();
        return off;
    };
    (*m)->set_cred(vfs::Cred{1000, 1000, {}});
    auto user = write_until_full("/user", std::uint64_t{64} << 20);
    ASSERT_FALSE(user);
    EXPECT_EQ(user.error().errnum(), ENOSPC) << user.error().describe();
    auto s = (*m)->statfs();
    ASSERT_TRUE(s);
    const std::uint64_t reserve = s->blocks * 10 / 100;
    EXPECT_EQ(s->bavail, 0u);
    EXPECT_GT(s->bfree + 64, reserve);  // stopped at the reserve (within a block or so)
    // Root writes on into the reserve.
    (*m)->set_cred(vfs::Cred{});
    auto root = write_until_full("/root", std::uint64_t{256} << 10);
    ASSERT_TRUE(root) << root.error().describe();
    auto after = (*m)->statfs();
    ASSERT_TRUE(after);
    EXPECT_LT(after->bfree + 200, s->bfree);
    ASSERT_TRUE((*m)->unmount(false));
    expect_clean(img);
}

// fs_maxbpg: past its single indirect block a big file moves on to another group every
// fs_maxbpg blocks (ffs_blkpref), so a file that group 0 could hold alone takes blocks from
// groups 0 and 1.
TEST(FfsWrite, BigFileSpreadsOverGroups) {
    TempDir work;
    const fs::path img = work.path() / "img";
    write_host_file(img, std::vector<std::byte>(std::size_t{48} << 20));
    {
        auto dev = io::ImageFile::open(img.string(), false);
        ASSERT_TRUE(dev);
        ASSERT_TRUE(newfs_params(**dev, {{"version", "1"}, {"bsize", "4096"}, {"fsize", "512"}}));
    }
    const auto nbfree = [&] {
        auto dev = io::ImageFile::open(img.string(), true);
        auto g = derive_geometry(*find_superblock(**dev), (*dev)->size());
        std::vector<Csum> cs(g->ncg);
        EXPECT_TRUE((*dev)->read_at(g->csaddr << g->fshift, std::as_writable_bytes(std::span(cs))));
        std::vector<std::uint32_t> out;
        for (const Csum& c : cs)
            out.push_back(g->order.u32(c.cs_nbfree));
        return std::pair(out, *g);
    };
    const auto [before, g] = nbfree();
    ASSERT_GE(before.size(), 2u);
    ASSERT_EQ(g.maxbpg, g.nindir);
    const std::uint64_t blocks = ndaddr + 2 * std::uint64_t{g.nindir} + 200;  // 8.4 MB
    ASSERT_LT(blocks + 100, before[0]);  // group 0 alone could hold it
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        auto fd = (*m)->open("/big", O_RDWR | O_CREAT, 0644);
        ASSERT_TRUE(fd);
        ASSERT_TRUE((*m)->write_fd(*fd, 0, pattern(blocks * g.bsize, 3), false));
        ASSERT_TRUE((*m)->close(*fd));
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(img);
    const auto [after, g2] = nbfree();
    EXPECT_GT(before[0] - after[0], g.nindir) << "group 0";
    EXPECT_GT(before[1] - after[1], g.nindir) << "group 1";
    auto m = mount_image(img);
    ASSERT_TRUE(m);
    auto fd = (*m)->open("/big", O_RDONLY, 0);
    ASSERT_TRUE(fd);
    std::vector<std::byte> got(blocks * g.bsize);
    ASSERT_TRUE((*m)->read_fd(*fd, 0, got));
    EXPECT_TRUE(got == pattern(blocks * g.bsize, 3));
}

}  // namespace
}  // namespace uk::ffs::test
