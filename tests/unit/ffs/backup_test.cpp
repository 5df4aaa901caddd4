// Recovery from a backup superblock: a makefs image whose primary superblock is zeroed does not
// mount, and the error names the options that take the copy in cylinder group 1; with
// `backup` or `sb=N` (N in 512-byte sectors, as fsck_ffs -b) it mounts read-only and reads the
// whole source tree, and statfs counts what the groups say, not the copy's old totals; a
// read-write mount with either is refused with EROFS.
#include <gtest/gtest.h>

#include "fs/ffs/superblock.hpp"
#include "image_support.hpp"
#include "vfs/attach.hpp"

namespace uk::ffs::test {
namespace {

class Backup : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        if (!have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        m_src = m_work.path() / "src";
        m_img = m_work.path() / "img";
        TreeOptions options;
        options.many_entries = 300;
        build_tree(m_src, options);
        ASSERT_EQ(make_image(m_src, m_img, GetParam()), 0);
        // A file written after makefs: the primary's totals change, the copies' do not.
        const std::vector<std::byte> added = pattern(300000, 7);
        write_host_file(m_src / "added", added);
        {
            auto m = mount_image(m_img, std::size_t{8} << 20, true);
            ASSERT_TRUE(m) << m.error().describe();
            auto fd = (*m)->open("/added", O_WRONLY | O_CREAT, 0644);
            ASSERT_TRUE(fd) << fd.error().describe();
            ASSERT_TRUE((*m)->write_fd(*fd, 0, added, false));
            ASSERT_TRUE((*m)->close(*fd));
            // The same times as the source's copy, which the tree comparison checks.
            struct stat st {};
            ASSERT_EQ(::stat((m_src / "added").c_str(), &st), 0);
            ASSERT_TRUE((*m)->utimes("/added", st.st_atim, st.st_mtim, vfs::Follow::yes));
            ASSERT_TRUE((*m)->unmount(false));
        }
        {
            auto m = mount_image(m_img);
            ASSERT_TRUE(m) << m.error().describe();
            auto st = (*m)->statfs();
            ASSERT_TRUE(st) << st.error().describe();
            m_statfs = *st;
        }
        auto dev = io::ImageFile::open(m_img.string(), true);
        ASSERT_TRUE(dev);
        auto found = find_superblock(**dev);
        ASSERT_TRUE(found) << found.error().describe();
        auto g = derive_geometry(*found, (*dev)->size());
        ASSERT_TRUE(g) << g.error().describe();
        ASSERT_GT(g->ncg, 1u) << "no cylinder group 1 to keep a copy";
        m_backup_sector = (g->cgsblock(1) << g->fshift) / dev_bsize;
        // Destroy the primary.
        std::vector<std::byte> bytes = read_host_file(m_img);
        std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(found->offset), sizeof(Superblock),
                    std::byte{0});
        write_host_file(m_img, bytes);
    }

    Result<std::unique_ptr<vfs::Mount>> mount(vfs::MountRequest req, bool writable = false) {
        req.device = UKFS_TRY(io::ImageFile::open(m_img.string(), !writable));
        req.flags = writable ? 0 : vfs::mnt_rdonly;
        std::unique_ptr<vfs::FileSystem> fs = UKFS_TRY(mount_ffs(req));
        return vfs::Mount::create(std::move(fs), "ffs", req.flags);
    }
    static vfs::MountRequest with(std::string key, std::string value = {}) {
        vfs::MountRequest req;
        req.params.emplace_back(std::move(key), std::move(value));
        return req;
    }

    TempDir m_work;
    fs::path m_src, m_img;
    std::uint64_t m_backup_sector = 0;
    vfs::StatFs m_statfs;  // of the primary, before it was destroyed
};

TEST_P(Backup, PrimaryBadSuggestsTheOption) {
    auto m = mount_image(m_img);
    ASSERT_FALSE(m);
    const std::string msg = m.error().message();
    EXPECT_NE(msg.find("primary superblock is bad"), std::string::npos) << msg;
    EXPECT_NE(msg.find("-o backup"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sb=" + std::to_string(m_backup_sector)), std::string::npos) << msg;
}

TEST_P(Backup, BackupOptionReadsTheTree) {
    const std::string before = file_digest(m_img);
    for (const vfs::MountRequest& req :
         {with("backup"), with("sb", std::to_string(m_backup_sector))}) {
        auto m = mount(req);
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_GT(compare_tree(**m, m_src, false), 300u);
        auto st = (*m)->statfs();
        ASSERT_TRUE(st) << st.error().describe();
        EXPECT_EQ(st->bfree, m_statfs.bfree);
        EXPECT_EQ(st->bavail, m_statfs.bavail);
        EXPECT_EQ(st->ffree, m_statfs.ffree);
        EXPECT_EQ(st->blocks, m_statfs.blocks);
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(file_digest(m_img), before);  // read-only: nothing written
}

TEST_P(Backup, ReadWriteRefused) {
    for (const vfs::MountRequest& req :
         {with("backup"), with("sb", std::to_string(m_backup_sector))}) {
        auto m = mount(req, true);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum(), EROFS);
        EXPECT_NE(m.error().message().find("read-only"), std::string::npos) << m.error().message();
    }
}

TEST_P(Backup, BadOptionValues) {
    auto m = mount(with("sb", "1"));  // no superblock there
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL) << m.error().describe();
    m = mount(with("sb", "banana"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL);
    m = mount(with("backup", "yes"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL);
}

// Through attach: the ffs driver takes `backup`, also when the type is detected from the copy,
// and an option no driver of the type takes is refused before the driver mounts.
TEST_P(Backup, ThroughAttach) {
    vfs::AttachRequest req;
    req.type = "ffs";
    req.device_path = m_img.string();
    req.flags = vfs::mnt_rdonly;
    req.params = {{"backup", ""}};
    auto m = vfs::attach(req);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_TRUE((*m)->stat("/many", vfs::Follow::no));
    ASSERT_TRUE((*m)->unmount(false));
    // Without a type: the copy is found, and the mount says how to use it.
    req.type.clear();
    m = vfs::attach(req);
    ASSERT_TRUE(m) << m.error().describe();
    ASSERT_TRUE((*m)->unmount(false));
    req.params.clear();
    m = vfs::attach(req);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("-o backup"), std::string::npos) << m.error().message();
    req.type = "ffs";
    req.params = {{"bogus", "1"}};
    m = vfs::attach(req);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().errnum(), EINVAL);
    EXPECT_NE(m.error().message().find("unknown mount option \"bogus\""), std::string::npos)
        << m.error().message();
}

INSTANTIATE_TEST_SUITE_P(Ffs, Backup,
                         ::testing::Values("-o version=1,bsize=4096,fsize=512 -B le -s 24m",
                                           "-o version=1,bsize=8192,fsize=1024 -B be -s 80m",
                                           "-o version=2,bsize=4096,fsize=512 -B le -s 24m",
                                           "-o version=2,bsize=4096,fsize=512 -B be -s 24m"),
                         [](const auto& info) {
                             return std::string(info.index < 2 ? "ufs1_" : "ufs2_") +
                                    (info.index % 2 == 0 ? "le" : "be");
                         });

}  // namespace
}  // namespace uk::ffs::test
