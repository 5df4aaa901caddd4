// The ext2fs mkfs, judged by e2fsprogs (ORACLES.md): `e2fsck -fn` must pass our images with
// no message, dumpe2fs must show what was asked for, debugfs must list the root, and the
// geometry must be mke2fs's for the same size and options (mke2fs -O ^resize_inode: we do not
// make resize_inode). Then a tree written through our own driver must leave the image clean
// and readable by debugfs. Same UUID, hash seed and time give the same bytes.
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "fs/ext2fs/mkfs.hpp"
#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

struct Case {
    const char* name;
    const char* params;  // fsu mkfs -o words
    const char* size;    // truncate -s
    const char* mke2fs;  // the same file system by mke2fs (-t ... -O ^resize_inode added)
    std::vector<std::string> features;  // what dumpe2fs must list
    std::uint32_t block_size;
};

const std::vector<std::string> ext2_features = {"ext_attr", "dir_index", "filetype", "sparse_super",
                                                "large_file"};
std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
const std::vector<std::string> ext3_features = with(ext2_features, {"has_journal"});
const std::vector<std::string> ext4_features =
    with(ext3_features,
         {"extent", "huge_file", "flex_bg", "metadata_csum", "64bit", "dir_nlink", "extra_isize"});

const Case cases[] = {
    {"ext2_64M", "fstype=ext2", "64M", "ext2", ext2_features, 1024},
    {"ext3_64M", "fstype=ext3", "64M", "ext3", ext3_features, 1024},
    {"ext3_300M_1k", "fstype=ext3", "300M", "ext3", ext3_features, 1024},
    {"ext4_2M", "", "2M", "ext4", ext4_features, 1024},
    {"ext4_8M", "fstype=ext4", "8M", "ext4", ext4_features, 1024},
    {"ext4_64M", "", "64M", "ext4", ext4_features, 1024},
    {"ext4_1k_256M", "blocksize=1024", "256M", "ext4 -b 1024", ext4_features, 1024},
    {"ext4_512M", "", "512M", "ext4", ext4_features, 4096},
    {"ext4_4k_64M", "blocksize=4096", "64M", "ext4 -b 4096", ext4_features, 4096},
    {"ext4_no_csum", "features=^metadata_csum", "128M", "ext4 -O ^metadata_csum",
     with(ext3_features, {"extent", "flex_bg", "64bit"}), 1024},
    {"ext4_uninit_bg", "features=^metadata_csum:^64bit:uninit_bg", "128M",
     "ext4 -O ^metadata_csum,^64bit,uninit_bg", with(ext3_features, {"uninit_bg", "flex_bg"}),
     1024},
    {"ext4_4k_ratio64k", "blocksize=4096,inode_ratio=65536", "512M", "ext4 -b 4096 -i 65536",
     ext4_features, 4096},
    {"ext4_inode128", "inode_size=128", "64M", "ext4 -I 128", ext3_features, 1024},
    {"ext4_64k_blocks", "blocksize=65536", "128M", "ext4 -b 65536", ext4_features, 65536},
    {"ext4_journal_8M", "journal_size=8", "128M", "ext4 -J size=8", ext4_features, 1024},
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

std::string img_name(const Case& c) {
    return std::string(c.name) + ".img";
}

vfs::FormatParams parse(const std::string& s) {
    vfs::FormatParams out;
    std::stringstream in(s);
    for (std::string word; std::getline(in, word, ',');) {
        const auto eq = word.find('=');
        out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
    return out;
}

Result<void> make(const fs::path& img, const std::string& size, const std::string& params) {
    if (run("truncate -s " + size + " " + img.string()) != 0)
        return Error::sys(EIO, "truncate failed");
    auto dev = UKFS_TRY(io::ImageFile::open(img.string(), false));
    auto driver = vfs::Registry::global().find("ext2fs");
    if (!driver || !driver->mkfs)
        return Error::sys(ENOSYS, "no ext2fs mkfs registered");
    return driver->mkfs(*dev, parse(params));
}

// e2fsck -fn's output when it finds something other than its version, pass and summary lines.
std::string fsck_complaints(const fs::path& img, int& status) {
    const std::string out = capture("e2fsck -fn " + img.string() + " 2>&1; echo status=$?");
    std::stringstream in(out);
    std::string bad;
    static const std::regex ok(R"(e2fsck \d.*|Pass \d[A-Z]?: .*|.*: \d+/\d+ files .*)");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("status=", 0) == 0) {
            status = std::stoi(line.substr(7));
            continue;
        }
        if (!std::regex_match(line, ok))
            bad += line + "\n";
    }
    return bad;
}

// dumpe2fs -h's "Key: value" lines.
std::map<std::string, std::string> header(const fs::path& img) {
    std::map<std::string, std::string> out;
    std::stringstream in(capture("dumpe2fs -h " + img.string()));
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        while (!v.empty() && v.back() == ' ')
            v.pop_back();
        out[line.substr(0, colon)] = v;
    }
    return out;
}

// The per-group placement lines of dumpe2fs (bitmaps, tables, backups, free counts).
std::string groups(const fs::path& img) {
    return capture("dumpe2fs " + img.string() + " 2>/dev/null" +
                   " | grep -E '^Group|superblock at|bitmap at|Inode table at|free blocks,' | sed "
                   "'s/csum 0x[0-9a-f]*//'");
}

class Mkfs : public ::testing::TestWithParam<Case> {
protected:
    void SetUp() override {
        if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("debugfs"))
            GTEST_SKIP() << "e2fsprogs is not installed";
    }
    void expect_clean(const fs::path& img, const std::string& when) {
        int status = -1;
        const std::string complaints = fsck_complaints(img, status);
        EXPECT_EQ(status, 0) << when;
        EXPECT_EQ(complaints, "") << when;
    }
    TempDir m_dir{"ext2mkfs"};
};

TEST_P(Mkfs, CleanAndAsAsked) {
    const Case& c = GetParam();
    const fs::path img = m_dir.path() / img_name(c);
    std::string label = c.name;
    label.resize(std::min<std::size_t>(label.size(), 16));
    std::string params = c.params;
    params += std::string(params.empty() ? "" : ",") + "label=" + label +
              ",uuid=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f1";
    auto r = make(img, c.size, params);
    ASSERT_TRUE(r) << r.error().describe();
    expect_clean(img, "after mkfs");

    auto h = header(img);
    EXPECT_EQ(h["Filesystem volume name"], label);
    EXPECT_EQ(h["Filesystem UUID"], "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f1");
    EXPECT_EQ(h["Block size"], std::to_string(c.block_size));
    EXPECT_EQ(h["Filesystem state"], "clean");
    const std::string feats = " " + h["Filesystem features"] + " ";
    for (const std::string& f : c.features)
        EXPECT_NE(feats.find(" " + f + " "), std::string::npos) << f << " missing: " << feats;
    EXPECT_EQ(feats.find(" resize_inode "), std::string::npos) << feats;

    const std::string ls = capture("debugfs -R 'ls -l /' " + img.string());
    EXPECT_NE(ls.find("lost+found"), std::string::npos) << ls;
    EXPECT_NE(ls.find(" .\n"), std::string::npos) << ls;

    // The geometry of mke2fs for the same size and options.
    const fs::path ref = m_dir.path() / "ref.img";
    ASSERT_EQ(run("truncate -s " + std::string(c.size) + " " + ref.string()), 0);
    ASSERT_EQ(run(std::string("mke2fs -q -F -t ") + c.mke2fs + " -O ^resize_inode " + ref.string()),
              0);
    auto want = header(ref);
    for (const char* key : {"Filesystem features",
                            "Block count",
                            "Inode count",
                            "Reserved block count",
                            "Free blocks",
                            "Free inodes",
                            "First block",
                            "Block size",
                            "Blocks per group",
                            "Inodes per group",
                            "Inode blocks per group",
                            "Flex block group size",
                            "Total journal blocks",
                            "Inode size",
                            "Required extra isize",
                            "Default mount options",
                            "Filesystem flags",
                            "Journal inode",
                            "Default directory hash",
                            "Checksum type"})
        EXPECT_EQ(h[key], want[key]) << key;
    EXPECT_EQ(groups(img), groups(ref)) << "group layout differs from mke2fs's";

    // A tree written through our driver.
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        ASSERT_TRUE((*m)->mkdir("/d", 0755));
        ASSERT_TRUE((*m)->mkdir("/d/e", 0700));
        for (std::size_t size : {0, 1, 5000, 300000}) {
            auto fd = (*m)->open("/d/f" + std::to_string(size), O_WRONLY | O_CREAT, 0644);
            ASSERT_TRUE(fd);
            auto n = (*m)->write_fd(*fd, 0, pattern(size, static_cast<unsigned>(size)), false);
            ASSERT_TRUE(n);
            ASSERT_TRUE((*m)->close(*fd));
        }
        ASSERT_TRUE((*m)->symlink("d/f5000", "/link"));
        ASSERT_TRUE((*m)->unmount(false));
    }
    expect_clean(img, "after writing a tree");
    const fs::path out = m_dir.path() / "out";
    ASSERT_EQ(run("debugfs -R 'dump /d/f300000 " + out.string() + "' " + img.string()), 0);
    EXPECT_EQ(read_host_file(out), pattern(300000, 300000u));
    EXPECT_NE(capture("debugfs -R 'ls -l /d' " + img.string()).find("f5000"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Ext2fs, Mkfs, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Ext2fsMkfs, SameInputsSameBytes) {
    TempDir dir("ext2mkfs");
    const std::string fixed = "uuid=00112233-4455-6677-8899-aabbccddeeff,"
                              "hash_seed=ffeeddcc-bbaa-9988-7766-554433221100,time=1700000000";
    for (const char* type : {"ext2", "ext3", "ext4"}) {
        const fs::path a = dir.path() / "a.img", b = dir.path() / "b.img";
        const std::string p = std::string("fstype=") + type + "," + fixed;
        ASSERT_TRUE(make(a, "32M", p));
        ASSERT_TRUE(make(b, "32M", p));
        EXPECT_EQ(run("cmp " + a.string() + " " + b.string()), 0) << type;
    }
    // A seed stands for the UUID and hash seed; another seed gives another file system.
    const fs::path a = dir.path() / "a.img", b = dir.path() / "b.img";
    ASSERT_TRUE(make(a, "32M", "seed=7,time=1700000000"));
    ASSERT_TRUE(make(b, "32M", "seed=7,time=1700000000"));
    EXPECT_EQ(run("cmp " + a.string() + " " + b.string()), 0);
    ASSERT_TRUE(make(b, "32M", "seed=8,time=1700000000"));
    EXPECT_NE(run("cmp " + a.string() + " " + b.string()), 0);
    // s_mkfs_time (superblock byte 0x108) is the time given.
    const auto bytes = read_host_file(a);
    ASSERT_GT(bytes.size(), 1024u + 0x10C);
    std::uint32_t mkfs_time = 0;
    for (int i = 3; i >= 0; --i)
        mkfs_time = mkfs_time << 8 | std::to_integer<std::uint32_t>(bytes[1024 + 0x108 + i]);
    EXPECT_EQ(mkfs_time, 1700000000u);
}

TEST(Ext2fsMkfs, BadParametersNameTheProblem) {
    TempDir dir("ext2mkfs");
    const fs::path img = dir.path() / "x.img";
    auto expect_einval = [&](const std::string& size, const std::string& params,
                             const std::string& named) {
        auto r = make(img, size, params);
        ASSERT_FALSE(r) << params;
        EXPECT_EQ(r.error().errnum(), EINVAL) << params;
        EXPECT_NE(r.error().describe().find(named), std::string::npos)
            << params << ": " << r.error().describe();
    };
    expect_einval("8M", "colour=blue", "colour");
    expect_einval("8M", "features=warp_drive", "warp_drive");
    expect_einval("8M", "features=resize_inode", "resize_inode");
    expect_einval("8M", "features=^extent", "extent");  // 64bit needs it
    expect_einval("8M", "fstype=ext5", "ext5");
    expect_einval("8M", "blocksize=3000", "blocksize");
    expect_einval("8M", "inode_size=100", "inode_size");
    expect_einval("8M", "uuid=nope", "uuid");
    expect_einval("8M", "label=seventeen-bytes-x", "label");
    expect_einval("32K", "", "too small");
    expect_einval("8M", "journal_blocks=6000", "journal");
}

// A kernel loop mount of our images, read-write, where the sandbox allows one.
TEST(Ext2fsMkfs, KernelMounts) {
    if (geteuid() != 0)
        GTEST_SKIP() << "a loop mount needs root";
    if (!have_tool("e2fsck") || !have_tool("debugfs"))
        GTEST_SKIP() << "e2fsprogs is not installed";
    TempDir dir("ext2mkfs");
    const fs::path mnt = dir.path() / "mnt";
    fs::create_directories(mnt);
    for (const char* params : {"fstype=ext2", "fstype=ext3", "fstype=ext4", "blocksize=4096"}) {
        const fs::path img = dir.path() / "k.img";
        ASSERT_TRUE(make(img, "64M", params));
        if (run("mount -o loop " + img.string() + " " + mnt.string()) != 0)
            GTEST_SKIP() << "the kernel cannot loop-mount here (no loop device or no permission)";
        EXPECT_TRUE(fs::is_directory(mnt / "lost+found")) << params;
        fs::create_directories(mnt / "d");
        std::ofstream(mnt / "d" / "hello") << "hello from the kernel\n";
        EXPECT_EQ(run("umount " + mnt.string()), 0) << params;
        int status = -1;
        EXPECT_EQ(fsck_complaints(img, status), "") << params;
        EXPECT_EQ(status, 0) << params;
        EXPECT_EQ(capture("debugfs -R 'cat /d/hello' " + img.string()), "hello from the kernel\n")
            << params;
    }
}

}  // namespace
}  // namespace uk::ext2fs::test
