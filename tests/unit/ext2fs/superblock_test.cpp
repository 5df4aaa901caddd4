// The superblock: parsed from a reference image (mke2fs) and compared with dumpe2fs; then the
// validator's table, one row per rejected field with its errno and message.
#include <functional>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fs/ext2fs/superblock.hpp"
#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

class SuperblockTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_tool("mke2fs") || !have_tool("dumpe2fs"))
            GTEST_SKIP() << "mke2fs/dumpe2fs (e2fsprogs) are not installed";
        fs::create_directory(m_dir.path() / "src");
        m_img = m_dir.path() / "img";
        ASSERT_EQ(make_image(m_dir.path() / "src", m_img, "ext4 -b 4096", "16M"), 0);
        auto dev = io::ImageFile::open(m_img.string(), true);
        ASSERT_TRUE(dev);
        m_size = (*dev)->size();
        auto sb = read_superblock(**dev);
        ASSERT_TRUE(sb) << sb.error().describe();
        m_sb = *sb;
    }
    std::string dumpe2fs(const std::string& key) {
        std::istringstream in(capture("dumpe2fs -h " + m_img.string()));
        for (std::string line; std::getline(in, line);)
            if (line.rfind(key + ":", 0) == 0)
                return line.substr(line.find_first_not_of(" \t", key.size() + 1));
        return {};
    }

    TempDir m_dir;
    fs::path m_img;
    std::uint64_t m_size = 0;
    Superblock m_sb{};
};

TEST_F(SuperblockTest, MatchesDumpe2fs) {
    auto g = derive_geometry(m_sb, m_size);
    ASSERT_TRUE(g) << g.error().describe();
    EXPECT_EQ(std::to_string(g->inodes_count), dumpe2fs("Inode count"));
    EXPECT_EQ(std::to_string(g->blocks_count), dumpe2fs("Block count"));
    EXPECT_EQ(std::to_string(g->block_size), dumpe2fs("Block size"));
    EXPECT_EQ(std::to_string(g->blocks_per_group), dumpe2fs("Blocks per group"));
    EXPECT_EQ(std::to_string(g->inodes_per_group), dumpe2fs("Inodes per group"));
    EXPECT_EQ(std::to_string(g->inode_size), dumpe2fs("Inode size"));
    EXPECT_EQ(std::to_string(g->first_ino), dumpe2fs("First inode"));
    EXPECT_EQ(fmt::format("{:#010x}", m_sb.s_checksum.get()), dumpe2fs("Checksum"));
    EXPECT_EQ(superblock_checksum(m_sb), m_sb.s_checksum.get());
    EXPECT_TRUE(g->metadata_csum());
    EXPECT_TRUE(check_features(m_sb, true));
    // Round trip: the value type holds exactly the on-disk bytes.
    std::vector<std::byte> raw = read_host_file(m_img);
    EXPECT_EQ(std::memcmp(raw.data() + superblock_offset, &m_sb, sizeof m_sb), 0);
}

struct Row {
    const char* name;
    std::function<void(Superblock&)> mutate;
    int errnum;
    const char* message;  // a substring of the error message
    bool reseal = true;   // recompute s_checksum after the change
};

const Row rows[] = {
    {"magic", [](Superblock& s) { s.s_magic.set(0x1234); }, EINVAL, "no superblock found"},
    {"rev_level", [](Superblock& s) { s.s_rev_level.set(7); }, EINVAL, "s_rev_level 7"},
    {"log_block_size", [](Superblock& s) { s.s_log_block_size.set(30); }, EINVAL,
     "s_log_block_size 30 is out of range"},
    {"log_cluster_size", [](Superblock& s) { s.s_log_cluster_size.set(3); }, EINVAL,
     "s_log_cluster_size 3"},
    {"inode_size_small", [](Superblock& s) { s.s_inode_size.set(100); }, EINVAL,
     "s_inode_size 100"},
    {"inode_size_big", [](Superblock& s) { s.s_inode_size.set(8192); }, EINVAL,
     "s_inode_size 8192"},
    {"first_ino", [](Superblock& s) { s.s_first_ino.set(3); }, EINVAL, "s_first_ino 3"},
    {"blocks_per_group_zero", [](Superblock& s) { s.s_blocks_per_group.set(0); }, EINVAL,
     "s_blocks_per_group 0"},
    {"blocks_per_group_odd", [](Superblock& s) { s.s_blocks_per_group.set(4100); }, EINVAL,
     "s_blocks_per_group 4100"},
    {"blocks_per_group_big", [](Superblock& s) { s.s_blocks_per_group.set(32776); }, EINVAL,
     "s_blocks_per_group 32776"},
    {"inodes_per_group", [](Superblock& s) { s.s_inodes_per_group.set(0); }, EINVAL,
     "s_inodes_per_group 0"},
    {"inodes_count", [](Superblock& s) { s.s_inodes_count.set(s.s_inodes_count.get() + 1); },
     EINVAL, "s_inodes_count"},
    {"first_data_block",
     [](Superblock& s) { s.s_first_data_block.set(s.s_blocks_count_lo.get()); }, EINVAL,
     "s_first_data_block"},
    {"desc_size", [](Superblock& s) { s.s_desc_size.set(48); }, EINVAL, "s_desc_size 48"},
    {"reserved_gdt", [](Superblock& s) { s.s_reserved_gdt_blocks.set(5000); }, EINVAL,
     "s_reserved_gdt_blocks 5000"},
    {"first_meta_bg",
     [](Superblock& s) {
         s.s_feature_incompat.set(s.s_feature_incompat.get() | incompat_meta_bg);
         s.s_first_meta_bg.set(1000);
     },
     EINVAL, "s_first_meta_bg 1000"},
    {"blocks_count_past_device",
     [](Superblock& s) { s.s_blocks_count_lo.set(s.s_blocks_count_lo.get() * 4); }, EINVAL,
     "but the device has"},
    {"groups_overflow", [](Superblock& s) { s.s_blocks_count_hi.set(0xFFFFFFFF); }, EINVAL,
     "s_blocks_count"},
    {"checksum_type", [](Superblock& s) { s.s_checksum_type = 2; }, EINVAL,
     "s_checksum_type 2"},
    {"checksum", [](Superblock& s) { s.s_volume_name[0] = 'X'; }, EIO,
     "ext2fs: superblock: checksum mismatch", false},
};

class Validator : public SuperblockTest, public ::testing::WithParamInterface<Row> {};

TEST_P(Validator, RejectsField) {
    const Row& row = GetParam();
    Superblock sb = m_sb;
    row.mutate(sb);
    if (row.reseal)
        sb.s_checksum.set(superblock_checksum(sb));
    auto g = derive_geometry(sb, m_size);
    ASSERT_FALSE(g) << row.name << " was accepted";
    EXPECT_EQ(g.error().errnum(), row.errnum) << g.error().describe();
    EXPECT_NE(g.error().message().find(row.message), std::string::npos) << g.error().message();
}

INSTANTIATE_TEST_SUITE_P(Fields, Validator, ::testing::ValuesIn(rows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(SuperblockTest, FeatureGates) {
    Superblock sb = m_sb;
    sb.s_feature_incompat.set(sb.s_feature_incompat.get() | incompat_encrypt);
    auto r = check_features(sb, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EINVAL);
    EXPECT_NE(r.error().message().find("unsupported incompatible feature(s): encrypt"),
              std::string::npos)
        << r.error().message();

    sb = m_sb;
    sb.s_feature_incompat.set(sb.s_feature_incompat.get() | 0x80000000u);
    r = check_features(sb, true);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("0x80000000"), std::string::npos) << r.error().message();

    sb = m_sb;
    sb.s_feature_ro_compat.set(sb.s_feature_ro_compat.get() | ro_compat_bigalloc | 0x40000000u);
    EXPECT_TRUE(check_features(sb, true));
    r = check_features(sb, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EROFS);
    EXPECT_NE(r.error().message().find("bigalloc|0x40000000 allow read-only mounts only"),
              std::string::npos)
        << r.error().message();

    EXPECT_TRUE(check_features(m_sb, false));

    // What the writer does not keep valid: read-only only, each named. A journal needing
    // recovery is replayed at mount when it is an inode; otherwise it is refused.
    sb = m_sb;
    sb.s_feature_compat.set(sb.s_feature_compat.get() | compat_has_journal);
    sb.s_journal_inum.set(8);
    sb.s_feature_incompat.set(sb.s_feature_incompat.get() | incompat_recover);
    EXPECT_TRUE(check_features(sb, true));
    EXPECT_TRUE(check_features(sb, false));
    sb.s_journal_inum.set(0);
    EXPECT_TRUE(check_features(sb, true));
    r = check_features(sb, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EROFS);
    EXPECT_NE(r.error().message().find("needs_recovery"), std::string::npos);
    sb = m_sb;
    sb.s_feature_compat.set(sb.s_feature_compat.get() | 0x1000u);
    r = check_features(sb, false);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("orphan_file"), std::string::npos) << r.error().message();
    sb = m_sb;
    sb.s_state.set(0);
    r = check_features(sb, false);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("not cleanly unmounted"), std::string::npos);
}

}  // namespace
}  // namespace uk::ext2fs::test
