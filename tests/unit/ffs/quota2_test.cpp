// NetBSD quota2 in the FFS checker. makefs images of files with several owners (chown needs
// root) get two quota files written by the test: the tree holds two extra regular files, the
// test writes the quota2 header and entries (quota2.h's layout, the image's byte order) into
// their blocks, removes their names from the root directory and sets the superblock's fields.
// Correct usage is clean; each fault is reported in fsck_ffs' words with exit 8.
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "check_support.hpp"

namespace uk::ffs::check {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

constexpr std::uint32_t q2_magic = 0xb746915e;
constexpr std::uint32_t q2e_size = 96;
constexpr std::uint32_t user = 0, group = 1;

struct Usage {
    std::uint64_t blocks = 0, files = 0;
};

// How the test writes one quota file.
struct QuotaSpec {
    std::map<std::uint32_t, Usage> entries;
    std::uint32_t wrong_chain_id = ~0u;  // this id goes in the next hash chain
};

class Quota2 : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (!have_makefs())
            GTEST_SKIP() << "makefs not installed";
        if (::geteuid() != 0)
            GTEST_SKIP() << "giving files owners for makefs needs root";
        const std::string& opts = GetParam();
        m_bsize = static_cast<std::uint32_t>(std::stoul(opts.substr(opts.find("bsize=") + 6)));
        const fs::path root = m_tmp.dir / "tree";
        fs::create_directories(root / "d");
        auto file = [&](const char* name, std::size_t n, uid_t u, gid_t g) {
            write_file(root / name, n, 'x');
            ASSERT_EQ(::lchown((root / name).c_str(), u, g), 0);
        };
        file("a", 5000, 1000, 100);
        file("b", 100, 1000, 200);
        file("c", 70000, 2000, 200);
        file("d/e", 1, 3000, 300);
        ASSERT_EQ(::lchown((root / "d").c_str(), 3000, 100), 0);
        fs::create_symlink("a", root / "l");
        ASSERT_EQ(::lchown((root / "l").c_str(), 2000, 100), 0);
        file("q_user", 2 * m_bsize, 0, 0);
        file("q_group", 2 * m_bsize, 0, 0);
        m_img = makefs(m_tmp, opts);
        ASSERT_FALSE(m_img.empty()) << "makefs " << opts;
        Raw raw(m_img);
        if (!raw.ufs2 && (raw.sb.fs_old_flags & fs_flags_updated) == 0)
            GTEST_SKIP() << "makefs wrote a UFS1 superblock without FS_FLAGS_UPDATED";
        for (m_shift = 8; m_shift < 15; ++m_shift)
            if ((std::uint64_t{8} << (m_shift + 1)) + 112 > m_bsize)
                break;
        unlink_quota_files(raw);
        for (std::uint32_t t : {user, group})
            for (int b = 0; b < 2; ++b)
                m_qblk[t][b] = raw.db(m_qino[t], b);
        count_usage(raw);
    }

    std::uint64_t u64(const Raw& raw, std::uint64_t off) const {
        return raw.o.u64(raw.get<Raw64>(off));
    }
    void put32(Raw& raw, std::uint64_t off, std::uint32_t v) {
        Raw32 r;
        raw.o.set(r, v);
        raw.put(off, r);
    }
    void put64(Raw& raw, std::uint64_t off, std::uint64_t v) {
        Raw64 r;
        raw.o.set(r, v);
        raw.put(off, r);
    }

    // The names q_user and q_group leave the root directory (d_ino 0: a free entry).
    void unlink_quota_files(Raw& raw) {
        const std::uint64_t dir = raw.db(root_ino, 0) * raw.fsize();
        const std::uint64_t size = raw.o.u64(raw.get<Raw64>(raw.size_off(root_ino)));
        for (std::uint64_t off = dir; off + 8 < dir + std::min<std::uint64_t>(size, m_bsize);) {
            const std::uint32_t ino = raw.o.u32(raw.get<Raw32>(off));
            const std::uint16_t reclen = raw.o.u16(raw.get<Raw16>(off + 4));
            const auto namlen = std::to_integer<std::size_t>(m_img[off + 7]);
            const std::string name(reinterpret_cast<const char*>(m_img.data() + off + 8), namlen);
            if (name == "q_user" || name == "q_group") {
                m_qino[name == "q_user" ? user : group] = ino;
                put32(raw, off, 0);
            }
            if (reclen == 0)
                break;
            off += reclen;
        }
        ASSERT_NE(m_qino[user], 0u);
        ASSERT_NE(m_qino[group], 0u);
    }

    // What fsck_ffs counts: every allocated inode but the quota files, by owner and by group.
    void count_usage(const Raw& raw) {
        const std::uint64_t n = std::uint64_t{raw.f(raw.sb.fs_ipg)} * raw.f(raw.sb.fs_ncg);
        for (std::uint64_t ino = root_ino; ino < n; ++ino) {
            if ((raw.mode(ino) & ifmt) == 0 || ino == m_qino[user] || ino == m_qino[group])
                continue;
            const std::uint64_t base = raw.inode_off(ino);
            std::uint32_t id[2];
            std::uint64_t blocks;
            if (raw.ufs2) {
                id[user] = raw.f(raw.get<Raw32>(base + offsetof(Dinode2, di_uid)));
                id[group] = raw.f(raw.get<Raw32>(base + offsetof(Dinode2, di_gid)));
                blocks = u64(raw, base + offsetof(Dinode2, di_blocks));
            } else {
                id[user] = raw.f(raw.get<Raw32>(base + offsetof(Dinode1, di_uid)));
                id[group] = raw.f(raw.get<Raw32>(base + offsetof(Dinode1, di_gid)));
                blocks = raw.f(raw.get<Raw32>(base + offsetof(Dinode1, di_blocks)));
            }
            for (std::uint32_t t : {user, group}) {
                m_usage[t][id[t]].blocks += blocks;
                m_usage[t][id[t]].files += 1;
            }
        }
        ASSERT_EQ(m_usage[user].count(1000), 1u);
        ASSERT_EQ(m_usage[user][1000].files, 2u);
        ASSERT_EQ(m_usage[group][200].files, 2u);
    }

    // Image offset of byte `off` of quota file `t`.
    std::uint64_t at(const Raw& raw, std::uint32_t t, std::uint64_t off) const {
        return m_qblk[t][off / m_bsize] * raw.fsize() + off % m_bsize;
    }
    std::uint32_t header_size() const { return 112 + 8 * (1u << m_shift); }

    // Writes quota file `t`: entries in the first slots (each at the head of its chain), the
    // other slots in the free list. Remembers each id's entry offset.
    void write_quota(Raw& raw, std::uint32_t t, const QuotaSpec& spec) {
        std::vector<std::uint64_t> slots;
        for (std::uint64_t off = header_size(); off + q2e_size <= m_bsize; off += q2e_size)
            slots.push_back(off);
        for (std::uint64_t off = m_bsize; off + q2e_size <= 2 * m_bsize; off += q2e_size)
            slots.push_back(off);
        for (std::uint64_t off = 0; off < 2 * m_bsize; ++off)
            m_img[at(raw, t, off)] = std::byte{0};
        put32(raw, at(raw, t, 0), q2_magic);
        m_img[at(raw, t, 4)] = std::byte(t);
        m_img[at(raw, t, 5)] = std::byte(m_shift);
        Raw16 hs;
        raw.o.set(hs, static_cast<std::uint16_t>(1u << m_shift));
        raw.put(at(raw, t, 6), hs);
        const std::uint32_t mask = (1u << m_shift) - 1;
        std::size_t next = 0;
        for (const auto& [id, use] : spec.entries) {
            const std::uint64_t e = slots.at(next++);
            m_entry[t][id] = e;
            const std::uint32_t chain = (id == spec.wrong_chain_id ? id + 1 : id) & mask;
            const std::uint64_t head = at(raw, t, 112 + 8 * chain);
            for (int v = 0; v < 2; ++v) {
                put64(raw, at(raw, t, e + 40 * v), ~std::uint64_t{0});      // hard limit
                put64(raw, at(raw, t, e + 40 * v + 8), ~std::uint64_t{0});  // soft limit
            }
            put64(raw, at(raw, t, e + 16), use.blocks);
            put64(raw, at(raw, t, e + 56), use.files);
            put64(raw, at(raw, t, e + 80), u64(raw, head));
            put32(raw, at(raw, t, e + 88), id);
            put64(raw, head, e);
        }
        for (; next < slots.size(); ++next) {
            put64(raw, at(raw, t, slots[next] + 80), u64(raw, at(raw, t, 104)));
            put64(raw, at(raw, t, 104), slots[next]);
        }
    }

    void set_superblock(Raw& raw, bool doquota2, std::uint64_t uino, std::uint64_t gino) {
        const std::uint64_t sb = raw.sbloc;
        const std::uint32_t flags = raw.f(raw.sb.fs_flags) | (doquota2 ? fs_doquota2 : 0);
        put32(raw, sb + offsetof(Superblock, fs_flags), flags);
        put32(raw, sb + offsetof(Superblock, fs_quota_magic), q2_magic);
        m_img[sb + offsetof(Superblock, fs_quota_flags)] = std::byte{3};
        put64(raw, sb + offsetof(Superblock, fs_quotafile), uino);
        put64(raw, sb + offsetof(Superblock, fs_quotafile) + 8, gino);
    }

    // Both quota files with the usage counted, quotas on.
    void write_correct(Raw& raw) {
        write_quota(raw, user, QuotaSpec{m_usage[user]});
        write_quota(raw, group, QuotaSpec{m_usage[group]});
        set_superblock(raw, true, m_qino[user], m_qino[group]);
    }

    CheckResult expect(const std::string& message, std::string* out = nullptr) {
        std::string text;
        const CheckResult r = run(m_img, &text);
        if (std::getenv("UKFS_SHOW_FSCK"))
            std::cout << text;
        EXPECT_EQ(r.exit_code, 8) << text;
        EXPECT_TRUE(r.reported(message)) << "wanted " << message << "\n" << text;
        EXPECT_NE(text.find(message), std::string::npos) << text;
        if (out)
            *out = text;
        return r;
    }

    Tmp m_tmp;
    std::vector<std::byte> m_img;
    std::uint32_t m_bsize = 0, m_shift = 0;
    std::uint64_t m_qino[2] = {0, 0};
    std::uint64_t m_qblk[2][2] = {};
    std::map<std::uint32_t, Usage> m_usage[2];
    std::map<std::uint32_t, std::uint64_t> m_entry[2];
};

TEST_P(Quota2, CorrectUsageIsClean) {
    Raw raw(m_img);
    write_correct(raw);
    std::string text;
    const CheckResult r = run(m_img, &text);
    EXPECT_EQ(r.exit_code, 0) << text;
    EXPECT_TRUE(r.problems.empty()) << text;
    EXPECT_NE(text.find("** Phase 6 - Check Quotas\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("UNREF"), std::string::npos) << text;
}

TEST_P(Quota2, WithoutQuotaFlagTheFilesAreUnreferenced) {
    Raw raw(m_img);
    write_correct(raw);
    set_superblock(raw, false, m_qino[user], m_qino[group]);
    std::string text;
    const CheckResult r = run(m_img, &text);
    EXPECT_EQ(r.exit_code, 8) << text;
    for (const std::uint32_t t : {user, group}) {
        EXPECT_TRUE(r.reported(fmt::format("UNREF FILE I={}", m_qino[t]))) << text;
        // linkup()'s "UNREF FILE " and pinode()'s " I=": two spaces.
        EXPECT_NE(text.find(fmt::format("UNREF FILE  I={}  OWNER=", m_qino[t])), std::string::npos)
            << text;
    }
    EXPECT_EQ(text.find("Phase 6"), std::string::npos) << text;
}

TEST_P(Quota2, WrongBlockCount) {
    Raw raw(m_img);
    write_correct(raw);
    const Usage u = m_usage[user][1000];
    put64(raw, at(raw, user, m_entry[user][1000] + 16), u.blocks + 2);
    const CheckResult r =
        expect(fmt::format("USER QUOTA MISMATCH FOR ID 1000: {}/{} SHOULD BE {}/{}", u.blocks + 2,
                           u.files, u.blocks, u.files));
    EXPECT_EQ(r.problems.size(), 1u);
}

TEST_P(Quota2, WrongInodeCount) {
    Raw raw(m_img);
    write_correct(raw);
    const Usage u = m_usage[group][200];
    put64(raw, at(raw, group, m_entry[group][200] + 56), 7);
    expect(fmt::format("GROUP QUOTA MISMATCH FOR ID 200: {}/7 SHOULD BE {}/{}", u.blocks, u.blocks,
                       u.files));
}

TEST_P(Quota2, MissingEntryForAnOwner) {
    Raw raw(m_img);
    QuotaSpec spec{m_usage[user]};
    spec.entries.erase(2000);
    write_quota(raw, user, spec);
    write_quota(raw, group, QuotaSpec{m_usage[group]});
    set_superblock(raw, true, m_qino[user], m_qino[group]);
    const Usage u = m_usage[user][2000];
    std::string text;
    expect(fmt::format("USER QUOTA MISMATCH FOR ID 2000: 0/0 SHOULD BE {}/{}", u.blocks, u.files),
           &text);
    EXPECT_NE(text.find("ALLOC? no"), std::string::npos) << text;
}

TEST_P(Quota2, EntryForAnIdWithoutFiles) {
    Raw raw(m_img);
    QuotaSpec spec{m_usage[user]};
    spec.entries[4242] = Usage{0, 0};  // no usage recorded, none counted: fine
    spec.entries[4243] = Usage{1, 1};
    write_quota(raw, user, spec);
    write_quota(raw, group, QuotaSpec{m_usage[group]});
    set_superblock(raw, true, m_qino[user], m_qino[group]);
    const CheckResult r = expect("USER QUOTA MISMATCH FOR ID 4243: 1/1 SHOULD BE 0/0");
    EXPECT_EQ(r.problems.size(), 1u);
}

TEST_P(Quota2, CorruptHeader) {
    Raw raw(m_img);
    write_correct(raw);
    put32(raw, at(raw, user, 0), q2_magic ^ 1);
    const CheckResult r = expect(fmt::format("CORRUPTED USER QUOTA INODE {}", m_qino[user]));
    EXPECT_EQ(r.problems.size(), 1u);  // the group file is still fine
}

TEST_P(Quota2, WrongHashSize) {
    Raw raw(m_img);
    write_correct(raw);
    m_img[at(raw, group, 5)] = std::byte(m_shift + 1);
    expect(fmt::format("CORRUPTED GROUP QUOTA INODE {}", m_qino[group]));
}

TEST_P(Quota2, EntryInTheWrongHashList) {
    Raw raw(m_img);
    QuotaSpec spec{m_usage[user]};
    spec.wrong_chain_id = 1000;
    write_quota(raw, user, spec);
    write_quota(raw, group, QuotaSpec{m_usage[group]});
    set_superblock(raw, true, m_qino[user], m_qino[group]);
    const CheckResult r =
        expect(fmt::format("QUOTA uid 1000 IN WRONG HASH LIST {}", 1001 & ((1u << m_shift) - 1)));
    EXPECT_TRUE(r.reported("QUOTA ENTRY NOT IN LIST"));
}

TEST_P(Quota2, ListLoopEnds) {
    Raw raw(m_img);
    write_correct(raw);
    const std::uint64_t e = m_entry[user][2000];
    put64(raw, at(raw, user, e + 80), e);  // the entry links to itself
    expect("DUPLICATE QUOTA ENTRY");
}

TEST_P(Quota2, LinkOutsideTheFile) {
    Raw raw(m_img);
    write_correct(raw);
    put64(raw, at(raw, group, m_entry[group][100] + 80), 3 * m_bsize);
    const CheckResult r = expect("CAN'T READ QUOTA BLOCK");
    EXPECT_FALSE(r.reported("GROUP QUOTA MISMATCH"));
}

TEST_P(Quota2, EntryInNoList) {
    Raw raw(m_img);
    write_correct(raw);
    put64(raw, at(raw, user, 104), 0);  // the free list is lost
    expect("QUOTA ENTRY NOT IN LIST");
}

TEST_P(Quota2, NoUserQuotaInodeStopsAtSetup) {
    Raw raw(m_img);
    write_correct(raw);
    set_superblock(raw, true, 0, m_qino[group]);
    std::string text;
    expect("no user quota inode", &text);
    EXPECT_NE(text.find("CONTINUE? no"), std::string::npos) << text;
    EXPECT_EQ(text.find("Phase 1"), std::string::npos) << text;
}

TEST_P(Quota2, InvalidSuperblockMagic) {
    Raw raw(m_img);
    write_correct(raw);
    put32(raw, raw.sbloc + offsetof(Superblock, fs_quota_magic), 0x1234);
    expect("Invalid quota magic number");
}

TEST_P(Quota2, QuotaInodeIsADirectory) {
    Raw raw(m_img);
    write_correct(raw);
    set_superblock(raw, true, m_qino[user], root_ino);
    expect(fmt::format("GROUP QUOTA INODE {} IS A DIRECTORY", root_ino));
}

TEST_P(Quota2, MutatedQuotaFilesNeverCrash) {
    Raw raw(m_img);
    write_correct(raw);
    const std::vector<std::byte> base = m_img;
    std::mt19937 rng(4242);
    for (int round = 0; round < 60; ++round) {
        m_img = base;
        const std::uint32_t t = round % 2;
        for (int k = 0; k < 1 + round % 8; ++k) {
            const std::uint64_t off = rng() % (2 * m_bsize);
            m_img[at(raw, t, off)] = std::byte(rng() & 0xff);
        }
        if (round % 3 == 0)  // a link somewhere in the file
            put64(raw, at(raw, t, m_entry[t].begin()->second + 80), rng() % (3 * m_bsize));
        std::string text;
        io::MemoryDevice dev(m_img, true);
        auto r = check(dev, {}, [&](std::string_view s) { text += s; });
        EXPECT_TRUE(r.has_value()) << round;
    }
}

INSTANTIATE_TEST_SUITE_P(Images, Quota2,
                         ::testing::Values("-s 4m -o version=2,bsize=8192,fsize=1024",
                                           "-s 4m -B be -o version=2,bsize=4096,fsize=512",
                                           "-s 4m -o version=1,bsize=4096,fsize=512",
                                           "-s 4m -B be -o version=1,bsize=16384,fsize=2048"));

}  // namespace
}  // namespace uk::ffs::check
