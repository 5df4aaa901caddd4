// makefs images changed byte by byte before mounting: fields makefs cannot produce (nanosecond
// and birth times, file flags, holes), and corruption of each structure the driver reads (the
// superblock, an inode, a directory entry, a block pointer), which must end in a clear EIO
// naming the structure, never a crash. Also the recovery of a damaged primary superblock from
// its cylinder group 1 copy.
#include <cstddef>
#include <cstring>
#include <map>

#include <gtest/gtest.h>

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

    TempDir m_work;
    std::vector<std::byte> m_bytes;
    Geometry m_g;
    std::uint64_t m_file_ino = 0;
};

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
