// Journal recovery, judged by e2fsck (ORACLES.md): images whose journal needs recovery are made
// at test time with debugfs' journal writer (journal_open / journal_write / journal_close write
// committed transactions without checkpointing them). A copy recovered by
// `e2fsck -E journal_only` is the reference: after our read-write mount and unmount every block
// but the superblock's must equal it, and `e2fsck -fn` must pass. A read-only mount must show
// the recovered files and leave the image's bytes unchanged. Damaged journals: a clear error or
// the kernel's behaviour (a transaction whose commit fails its checksum is not replayed).
#include <cstring>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

struct Variant {
    const char* name;
    const char* mkfs;
    const char* open;  // debugfs journal_open options: checksums
};

const Variant variants[] = {
    {"ext4_csum3", "ext4", "-c"},
    {"ext4_nocsum", "ext4", ""},
    {"ext4_csum2", "ext4", "-c -v 2"},
    {"ext4_1k", "ext4 -b 1024", "-c"},
    {"ext3", "ext3", ""},
    {"ext4_no_64bit", "ext4 -O ^metadata_csum,^64bit", ""},
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// The file system block behind file block `n` of `what` (a path or <ino>), by debugfs.
std::uint64_t bmap(const fs::path& img, const std::string& what, std::uint64_t n) {
    const std::string out =
        trim(capture(fmt::format("debugfs -R 'bmap {} {}' {}", what, n, img.string())));
    return out.empty() ? 0 : std::stoull(out);
}

std::uint32_t block_size_of(const fs::path& img) {
    const std::string out =
        capture("dumpe2fs -h " + img.string() + " 2>/dev/null | sed -n 's/^Block size: *//p'");
    return static_cast<std::uint32_t>(std::stoul(trim(out)));
}

bool has_needs_recovery(const fs::path& img) {
    return capture("dumpe2fs -h " + img.string() + " 2>/dev/null | grep '^Filesystem features'")
               .find("needs_recovery") != std::string::npos;
}

// Overwrite `len` bytes at `offset` of a host file.
void poke(const fs::path& p, std::uint64_t offset, const void* bytes, std::size_t len) {
    auto data = read_host_file(p);
    ASSERT_LE(offset + len, data.size());
    std::memcpy(data.data() + offset, bytes, len);
    write_host_file(p, data);
}

class Journal : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("debugfs") ||
            !have_tool("dumpe2fs"))
            GTEST_SKIP() << "e2fsprogs is not installed";
        if (capture("debugfs -R help /dev/null").find("journal_write") == std::string::npos)
            GTEST_SKIP() << "this debugfs has no journal writer (e2fsprogs >= 1.43 needed)";
        m_src = m_dir.path() / "src";
        fs::create_directories(m_src / "d");
        m_old_a = pattern(3 * 4096, 1);
        write_host_file(m_src / "a", m_old_a);
        write_host_file(m_src / "d" / "b", pattern(5000, 2));
        m_img = m_dir.path() / "img";
    }

    // The image, then one transaction logging new content for a's first block, a free block
    // and a third block that a second transaction revokes. `commit` false: the last
    // transaction is left uncommitted.
    void make(const Variant& v, bool commit = true) {
        ASSERT_EQ(make_image(m_src, m_img, v.mkfs, "16M"), 0);
        m_bs = block_size_of(m_img);
        m_a0 = bmap(m_img, "/a", 0);
        ASSERT_NE(m_a0, 0u);
        const std::uint64_t blocks = fs::file_size(m_img) / m_bs;
        m_free = blocks - 3;  // the last groups' tail: free in a fresh image
        m_revoked = blocks - 2;
        m_data = pattern(3 * m_bs, 7);
        // The first logged block starts with the journal's magic: debugfs escapes it in the
        // log and recovery must restore it.
        const std::uint8_t magic[4] = {0xc0, 0x3b, 0x39, 0x98};
        std::memcpy(m_data.data(), magic, sizeof magic);
        write_host_file(m_dir.path() / "data", m_data);
        const fs::path cmds = m_dir.path() / "cmds";
        const std::string text =
            fmt::format("jo {}\njw -b {},{},{} {}\njw -r {} /dev/null\njw {} -b {} {}\njc\n",
                        v.open, m_a0, m_free, m_revoked, (m_dir.path() / "data").string(),
                        m_revoked, commit ? "" : "-c", m_free, (m_dir.path() / "data").string());
        std::vector<std::byte> t(text.size());
        std::memcpy(t.data(), text.data(), text.size());
        write_host_file(cmds, t);
        ASSERT_EQ(run("debugfs -w -f " + cmds.string() + " " + m_img.string()), 0);
        ASSERT_TRUE(has_needs_recovery(m_img)) << "debugfs wrote no transaction";
    }

    std::vector<std::byte> read_file(vfs::Mount& m, const std::string& path, std::size_t n) {
        std::vector<std::byte> out(n);
        auto r = m.read(path, 0, out);
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        out.resize(r ? *r : 0);
        return out;
    }

    // Physical block of journal block n.
    std::uint64_t journal_block(std::uint64_t n) { return bmap(m_img, "<8>", n); }

    TempDir m_dir;
    fs::path m_src, m_img;
    std::vector<std::byte> m_old_a, m_data;
    std::uint32_t m_bs = 0;
    std::uint64_t m_a0 = 0, m_free = 0, m_revoked = 0;
};

TEST_P(Journal, ReadOnlyMountShowsRecoveredStateAndWritesNothing) {
    make(GetParam());
    const std::string before = file_digest(m_img);
    {
        auto m = mount_image(m_img);
        ASSERT_TRUE(m) << m.error().message();
        const auto a = read_file(**m, "/a", m_old_a.size());
        ASSERT_EQ(a.size(), m_old_a.size());
        // The first block comes from the journal, the rest is as mke2fs wrote it.
        EXPECT_TRUE(std::equal(a.begin(), a.begin() + m_bs, m_data.begin()));
        EXPECT_TRUE(std::equal(a.begin() + m_bs, a.end(), m_old_a.begin() + m_bs));
        EXPECT_EQ(read_file(**m, "/d/b", 5000), pattern(5000, 2));
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_EQ(file_digest(m_img), before);
    EXPECT_TRUE(has_needs_recovery(m_img));
}

TEST_P(Journal, ReadWriteMountRecoversAsE2fsckDoes) {
    make(GetParam());
    const fs::path ref = m_dir.path() / "ref";
    fs::copy_file(m_img, ref);
    ASSERT_LE(run("e2fsck -fy -E journal_only " + ref.string()), 1);
    ASSERT_FALSE(has_needs_recovery(ref));
    {
        auto m = mount_image(m_img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().message();
        const auto a = read_file(**m, "/a", m_old_a.size());
        ASSERT_EQ(a.size(), m_old_a.size());
        EXPECT_TRUE(std::equal(a.begin(), a.begin() + m_bs, m_data.begin()));
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_FALSE(has_needs_recovery(m_img));
    const std::string fsck = capture("e2fsck -fn " + m_img.string() + " 2>&1; echo rc=$?");
    EXPECT_NE(fsck.find("rc=0"), std::string::npos) << fsck;

    // Block by block against e2fsck's recovery; the superblock's block differs in times and
    // counters our mount sets.
    const auto ours = read_host_file(m_img);
    const auto theirs = read_host_file(ref);
    ASSERT_EQ(ours.size(), theirs.size());
    const std::uint64_t sb_block = 1024 / m_bs;
    std::size_t differing = 0;
    for (std::uint64_t b = 0; b < ours.size() / m_bs; ++b) {
        if (b == sb_block)
            continue;
        if (std::memcmp(ours.data() + b * m_bs, theirs.data() + b * m_bs, m_bs) != 0) {
            ADD_FAILURE() << "block " << b << " differs from e2fsck's recovery";
            if (++differing == 5)
                break;
        }
    }
    // The replayed blocks hold the logged content; the revoked one does not.
    EXPECT_EQ(std::memcmp(ours.data() + m_free * m_bs, m_data.data(), m_bs), 0);
    EXPECT_NE(std::memcmp(ours.data() + m_revoked * m_bs, m_data.data() + 2 * m_bs, m_bs), 0);
}

// Renumber the log made by debugfs (which starts at transaction 1) to start at `first`:
// s_sequence and every header's h_sequence (big-endian at 0x18 and 8). Journals without
// checksums only.
void renumber(const fs::path& img, std::uint64_t jsb, std::uint32_t bs, std::uint32_t first) {
    const std::string log = capture("debugfs -R logdump " + img.string());
    const std::regex line("sequence ([0-9]+), type [0-9]+ \\([^)]*\\) at block ([0-9]+)");
    auto put = [&](std::uint64_t at, std::uint32_t v) {
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24),
                                   static_cast<std::uint8_t>(v >> 16),
                                   static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
        poke(img, at, b, sizeof b);
    };
    put(jsb * bs + 0x18, first);
    const std::string target = img.string();
    for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
        const auto seq = static_cast<std::uint32_t>(std::stoul((*it)[1]));
        const std::uint64_t jblock = std::stoull((*it)[2]);
        const std::string out = capture(fmt::format("debugfs -R 'bmap <8> {}' {}", jblock, target));
        put(std::stoull(out) * bs + 8, seq - 1 + first);
    }
}

TEST_P(Journal, SequenceNumbersWrapAround) {
    if (std::string(GetParam().open).find("-c") != std::string::npos)
        GTEST_SKIP() << "renumbering would break the journal's checksums";
    make(GetParam());
    renumber(m_img, journal_block(0), m_bs, 0xffffffffu);  // transactions 0xffffffff, 0, 1
    ASSERT_NE(capture("debugfs -R logdump " + m_img.string()).find("sequence 1, type 2"),
              std::string::npos);
    const fs::path ref = m_dir.path() / "ref";
    fs::copy_file(m_img, ref);
    ASSERT_LE(run("e2fsck -fy -E journal_only " + ref.string()), 1);
    auto m = mount_image(m_img, std::size_t{8} << 20, true);
    ASSERT_TRUE(m) << m.error().message();
    ASSERT_TRUE((*m)->unmount(false));
    const auto ours = read_host_file(m_img);
    const auto theirs = read_host_file(ref);
    ASSERT_EQ(ours.size(), theirs.size());
    for (const std::uint64_t b : {m_a0, m_free, m_revoked, journal_block(0)})
        EXPECT_EQ(std::memcmp(ours.data() + b * m_bs, theirs.data() + b * m_bs, m_bs), 0)
            << "block " << b;
    EXPECT_EQ(std::memcmp(ours.data() + m_free * m_bs, m_data.data(), m_bs), 0);
}

TEST_P(Journal, UncommittedTransactionIsNotReplayed) {
    make(GetParam(), false);
    auto m = mount_image(m_img, std::size_t{8} << 20, true);
    ASSERT_TRUE(m) << m.error().message();
    ASSERT_TRUE((*m)->unmount(false));
    const auto bytes = read_host_file(m_img);
    // The first transaction committed: a's block is new; the second (logging m_free again
    // with the first data block) did not.
    EXPECT_EQ(std::memcmp(bytes.data() + m_a0 * m_bs, m_data.data(), m_bs), 0);
    EXPECT_EQ(std::memcmp(bytes.data() + m_free * m_bs, m_data.data() + m_bs, m_bs), 0);
    const std::string fsck = capture("e2fsck -fn " + m_img.string() + " 2>&1; echo rc=$?");
    EXPECT_NE(fsck.find("rc=0"), std::string::npos) << fsck;
}

INSTANTIATE_TEST_SUITE_P(Debugfs, Journal, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

class JournalDamage : public Journal {};

TEST_F(JournalDamage, BadJournalMagicIsAClearError) {
    make(variants[0]);
    const std::uint8_t junk[4] = {0xde, 0xad, 0xbe, 0xef};
    poke(m_img, journal_block(0) * m_bs, junk, sizeof junk);
    const std::string before = file_digest(m_img);
    for (const bool writable : {false, true}) {
        auto m = mount_image(m_img, std::size_t{8} << 20, writable);
        ASSERT_FALSE(m);
        EXPECT_NE(m.error().message().find("journal superblock"), std::string::npos)
            << m.error().message();
        EXPECT_NE(m.error().message().find("magic"), std::string::npos) << m.error().message();
    }
    EXPECT_EQ(file_digest(m_img), before);
}

TEST_F(JournalDamage, TagOutsideTheFileSystemIsAClearError) {
    make(variants[1]);  // no checksums: the damaged descriptor is still taken as written
    // The first descriptor is journal block 1; its first tag's block number follows the header.
    const std::uint8_t far[4] = {0x7f, 0xff, 0xff, 0xf0};
    poke(m_img, journal_block(1) * m_bs + 12, far, sizeof far);
    const std::string before = file_digest(m_img);
    for (const bool writable : {false, true}) {
        auto m = mount_image(m_img, std::size_t{8} << 20, writable);
        ASSERT_FALSE(m);
        EXPECT_NE(m.error().message().find("outside the file system"), std::string::npos)
            << m.error().message();
    }
    EXPECT_EQ(file_digest(m_img), before);
}

TEST_F(JournalDamage, CommitChecksumMismatchDropsTheTransaction) {
    make(variants[0]);
    // Transaction 1: descriptor (journal block 1), three data blocks, commit (block 5).
    const std::uint8_t junk[1] = {0x5a};
    poke(m_img, journal_block(5) * m_bs + 100, junk, sizeof junk);
    auto m = mount_image(m_img);
    ASSERT_TRUE(m) << m.error().message();
    const auto a = read_file(**m, "/a", m_old_a.size());
    EXPECT_EQ(a, m_old_a);  // nothing replayed: the log ends at the failed commit
    ASSERT_TRUE((*m)->unmount(false));

    auto rw = mount_image(m_img, std::size_t{8} << 20, true);
    ASSERT_TRUE(rw) << rw.error().message();
    ASSERT_TRUE((*rw)->unmount(false));
    EXPECT_FALSE(has_needs_recovery(m_img));
    const auto bytes = read_host_file(m_img);
    EXPECT_EQ(std::memcmp(bytes.data() + m_a0 * m_bs, m_old_a.data(), m_bs), 0);
    const std::string fsck = capture("e2fsck -fn " + m_img.string() + " 2>&1; echo rc=$?");
    EXPECT_NE(fsck.find("rc=0"), std::string::npos) << fsck;
}

TEST_F(JournalDamage, LoggedBlockChecksumMismatchIsAClearError) {
    make(variants[0]);
    // Journal block 2: the first logged block of transaction 1 (a's new first block).
    const std::uint8_t junk[1] = {0x5a};
    poke(m_img, journal_block(2) * m_bs + 100, junk, sizeof junk);
    const std::string before = file_digest(m_img);
    for (const bool writable : {false, true}) {
        auto m = mount_image(m_img, std::size_t{8} << 20, writable);
        ASSERT_FALSE(m);
        EXPECT_NE(m.error().message().find("fails its checksum"), std::string::npos)
            << m.error().message();
    }
    EXPECT_EQ(file_digest(m_img), before);
}

TEST_F(JournalDamage, JournalInodeTooSmallIsAClearError) {
    make(variants[1]);
    // s_maxlen (journal superblock offset 0x10, big-endian) far beyond the inode's blocks.
    const std::uint8_t big[4] = {0x10, 0, 0, 0};
    poke(m_img, journal_block(0) * m_bs + 0x10, big, sizeof big);
    auto m = mount_image(m_img);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("s_maxlen"), std::string::npos) << m.error().message();
}

}  // namespace
}  // namespace uk::ext2fs::test
