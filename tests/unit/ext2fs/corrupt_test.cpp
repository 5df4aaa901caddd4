// Corrupt images, one recipe per case, made at test time: mke2fs builds a small image, the test
// flips one on-disk field (found with debugfs, the reference reader), then mounts a read-only
// memory copy and expects a clear error (errno and message), never a crash, hang or huge
// allocation. The device is read-only, so a stray write would fail loudly.
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fs/ext2fs/format.hpp"
#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

class Corrupt : public ::testing::Test {
protected:
    // An image of `src` made with `mkfs`, its bytes in m_bytes.
    void make(const std::string& mkfs) {
        if (!have_tool("mke2fs") || !have_tool("debugfs"))
            GTEST_SKIP() << "mke2fs/debugfs (e2fsprogs) are not installed";
        const fs::path src = m_dir.path() / "src";
        fs::create_directories(src / "d");
        write_host_file(src / "d/f", pattern(5000, 1));
        for (int i = 0; i < 20; ++i)
            write_host_file(src / "d" / fmt::format("n{}", i), {});
        m_img = m_dir.path() / "img";
        ASSERT_EQ(make_image(src, m_img, mkfs, "8M"), 0);
        m_bytes = read_host_file(m_img);
    }
    // The byte offset of `path`'s inode (debugfs imap).
    std::uint64_t inode_offset(const std::string& path) {
        std::istringstream in(capture("debugfs -R 'imap " + path + "' " + m_img.string()));
        std::string line, word;
        std::uint64_t block = 0, offset = 0;
        while (std::getline(in, line))
            if (line.find("located at block") != std::string::npos) {
                std::sscanf(line.c_str(), " located at block %lu, offset %lx", &block, &offset);
                return block * 1024 + offset;
            }
        ADD_FAILURE() << "debugfs imap " << path;
        return 0;
    }
    // The byte offset of block `n` of `path` (debugfs bmap).
    std::uint64_t data_offset(const std::string& path, int n) {
        const std::string out =
            capture(fmt::format("debugfs -R 'bmap {} {}' {}", path, n, m_img.string()));
        return std::stoull(out) * 1024;
    }
    void put32(std::uint64_t off, std::uint32_t v) {
        le32 x;
        x.set(v);
        std::memcpy(m_bytes.data() + off, &x, 4);
    }
    void put16(std::uint64_t off, std::uint16_t v) {
        le16 x;
        x.set(v);
        std::memcpy(m_bytes.data() + off, &x, 2);
    }
    Result<std::unique_ptr<vfs::Mount>> mount() {
        return mount_device(std::make_shared<io::MemoryDevice>(m_bytes, true));
    }
    // Mounting works, but `op` on it fails with `errnum` and a message containing `message`.
    template <class Op>
    void expect_error(Op op, int errnum, const std::string& message) {
        auto m = mount();
        ASSERT_TRUE(m) << m.error().describe();
        auto r = op(**m);
        ASSERT_FALSE(r) << "the corruption went unnoticed";
        EXPECT_EQ(r.error().errnum(), errnum) << r.error().describe();
        EXPECT_NE(r.error().message().find(message), std::string::npos) << r.error().message();
    }
    void expect_mount_error(int errnum, const std::string& message) {
        auto m = mount();
        ASSERT_FALSE(m) << "the corruption went unnoticed";
        EXPECT_EQ(m.error().errnum(), errnum) << m.error().describe();
        EXPECT_NE(m.error().message().find(message), std::string::npos) << m.error().message();
    }

    TempDir m_dir;
    fs::path m_img;
    std::vector<std::byte> m_bytes;
};

auto list(const std::string& path) {
    return [path](vfs::Mount& m) {
        return m.readdir(path, 0, [](const vfs::DirEntry&, std::uint64_t) { return true; });
    };
}
auto read_all(const std::string& path) {
    return [path](vfs::Mount& m) -> Result<std::size_t> {
        std::vector<std::byte> buf(1 << 16);
        return m.read(path, 0, buf);
    };
}

constexpr std::uint64_t sb_at = superblock_offset;

TEST_F(Corrupt, BadMagic) {
    make("ext4 -O ^metadata_csum");
    put16(sb_at + offsetof(Superblock, s_magic), 0);
    expect_mount_error(EINVAL, "ext2fs: no superblock found");
}

TEST_F(Corrupt, HugeLogBlockSize) {
    make("ext4 -O ^metadata_csum");
    put32(sb_at + offsetof(Superblock, s_log_block_size), 0x40000000);
    expect_mount_error(EINVAL, "s_log_block_size 1073741824 is out of range");
}

TEST_F(Corrupt, InodesCountMismatch) {
    make("ext4 -O ^metadata_csum");
    put32(sb_at + offsetof(Superblock, s_inodes_count), 12345);
    expect_mount_error(EINVAL, "s_inodes_count 12345");
}

TEST_F(Corrupt, SuperblockChecksum) {
    make("ext4");
    put32(sb_at + offsetof(Superblock, s_mtime), 42);
    expect_mount_error(EIO, "ext2fs: superblock: checksum mismatch");
}

TEST_F(Corrupt, GroupDescriptorChecksum) {
    make("ext4");
    put32(2048 + offsetof(GroupDesc, bg_inode_table_lo), 7);  // 1 KiB blocks: table in block 2
    expect_mount_error(EIO, "ext2fs: group descriptor 0: checksum mismatch");
}

TEST_F(Corrupt, GroupDescriptorTableOutside) {
    make("ext4 -O ^metadata_csum,^uninit_bg");
    put32(2048 + offsetof(GroupDesc, bg_inode_table_lo), 0xFFFFFF00);
    expect_mount_error(EIO, "ext2fs: group descriptor 0: inode table: block 4294967040");
}

TEST_F(Corrupt, DirentRecLenZero) {
    make("ext4 -O ^metadata_csum");
    put16(data_offset("/d", 0) + 4, 0);  // "." of /d
    expect_error(list("/d"), EIO, "ext2fs: directory inode 12, block 0, offset 0: rec_len 0 is "
                                  "smaller than 12");
}

TEST_F(Corrupt, DirentRecLenPastBlock) {
    make("ext4 -O ^metadata_csum");
    put16(data_offset("/d", 0) + 12 + 4, 2000);  // ".." of /d, 1 KiB block
    expect_error(list("/d"), EIO, "rec_len 2000 runs past the end (1024 bytes)");
}

TEST_F(Corrupt, DirentInodeOutOfRange) {
    make("ext4 -O ^metadata_csum");
    put32(data_offset("/d", 0) + 12, 0x00FFFFFF);  // ".." of /d
    expect_error(list("/d"), EIO, "inode 16777215 is out of range");
}

// The byte offset of the entry named `name` in /d's first block.
std::uint64_t entry_offset(const std::vector<std::byte>& bytes, std::uint64_t block,
                            const std::string& name) {
    for (std::uint64_t off = block; off + 8 + name.size() <= block + 1024; off += 4)
        if (std::to_integer<std::size_t>(bytes[off + 6]) == name.size() &&
            std::memcmp(bytes.data() + off + 8, name.data(), name.size()) == 0)
            return off;
    ADD_FAILURE() << "no entry " << name;
    return block;
}

TEST_F(Corrupt, DirentEmptyName) {
    make("ext4 -O ^metadata_csum");
    const std::uint64_t at = entry_offset(m_bytes, data_offset("/d", 0), "n7");
    m_bytes[at + 6] = std::byte{0};  // name_len
    expect_error(list("/d"), EIO, "has an empty name");
}

TEST_F(Corrupt, DirectoryBlockChecksum) {
    make("ext4");
    put32(data_offset("/d", 0) + 12, 11);  // ".." of /d now names lost+found
    expect_error(list("/d"), EIO, "ext2fs: directory inode 12, block 0: checksum mismatch");
}

TEST_F(Corrupt, InodeChecksum) {
    make("ext4");
    put32(inode_offset("/d/f") + offsetof(Inode, i_mtime), 1);
    expect_error([](vfs::Mount& m) { return m.stat("/d/f", vfs::Follow::no); }, EIO,
                 "ext2fs: inode 13: checksum mismatch");
}

TEST_F(Corrupt, ExtentPastTheEnd) {
    make("ext4 -O ^metadata_csum");
    const std::uint64_t first_extent = inode_offset("/d/f") + offsetof(Inode, i_block) + 12;
    put32(first_extent + offsetof(Extent, ee_start_lo), 0x7FFFFFF0);
    expect_error(read_all("/d/f"), EIO, "ext2fs: inode 13: extent root: extent 0: block "
                                        "2147483632 (+5) is outside the file system");
}

TEST_F(Corrupt, ExtentHeaderMagic) {
    make("ext4 -O ^metadata_csum");
    put16(inode_offset("/d/f") + offsetof(Inode, i_block), 0x1111);
    expect_error(read_all("/d/f"), EIO, "ext2fs: inode 13: extent root: bad extent magic");
}

TEST_F(Corrupt, ExtentDepthTooDeep) {
    make("ext4 -O ^metadata_csum");
    put16(inode_offset("/d/f") + offsetof(Inode, i_block) + offsetof(ExtentHeader, eh_depth), 9);
    expect_error(read_all("/d/f"), EIO, "eh_depth 9 is wrong");
}

TEST_F(Corrupt, IndirectBlockOutside) {
    make("ext2");
    put32(inode_offset("/d/f") + offsetof(Inode, i_block) + 4, 0xFFFFFFF0);  // i_block[1]
    expect_error(read_all("/d/f"), EIO, "ext2fs: inode 13: block map: block 4294967280 (+1) is "
                                        "outside the file system");
}

TEST_F(Corrupt, BadMode) {
    make("ext4 -O ^metadata_csum");
    put16(inode_offset("/d/f") + offsetof(Inode, i_mode), 0xF1A4);
    expect_error([](vfs::Mount& m) { return m.stat("/d/f", vfs::Follow::no); }, EIO,
                 "ext2fs: inode 13: i_mode 0170644 has no known file type");
}

// A huge i_size on a one-block file: reads far away are holes, nothing is allocated for them.
TEST_F(Corrupt, HugeSizeIsNotAllocated) {
    make("ext4 -O ^metadata_csum");
    put32(inode_offset("/d/f") + offsetof(Inode, i_size_high), 0x7FFF);
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    auto a = (*m)->stat("/d/f", vfs::Follow::no);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->size >> 32, 0x7FFFu);
    std::vector<std::byte> buf(4096, std::byte{1});
    auto n = (*m)->read("/d/f", std::uint64_t{1} << 44, buf);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(*n, buf.size());
    EXPECT_EQ(std::count(buf.begin(), buf.end(), std::byte{0}), 4096);
}

// A subdirectory entry naming the root: lookups stay finite (the VFS resolves one component
// at a time) and listing still works.
TEST_F(Corrupt, DirectoryLoop) {
    make("ext4 -O ^metadata_csum");
    put32(data_offset("/d", 0) + 24, root_ino);  // the first entry after "." and ".."
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_TRUE(list("/d")(**m));
    std::string name;
    ASSERT_TRUE((*m)->readdir("/d", 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        if (e.ino == root_ino && e.name != "..")
            name = e.name;
        return name.empty();
    }));
    ASSERT_FALSE(name.empty());
    std::string deep = "/d";
    for (int i = 0; i < 50; ++i)
        deep += "/" + name + "/d";
    EXPECT_TRUE((*m)->stat(deep, vfs::Follow::no));
}

TEST_F(Corrupt, ReservedInodeInEntry) {
    make("ext4 -O ^metadata_csum");
    put32(data_offset("/d", 0) + 24, 7);  // the resize inode
    auto m = mount();
    ASSERT_TRUE(m) << m.error().describe();
    std::string name;
    ASSERT_TRUE((*m)->readdir("/d", 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        if (e.ino == 7)
            name = e.name;
        return name.empty();
    }));
    ASSERT_FALSE(name.empty());
    auto a = (*m)->stat("/d/" + name, vfs::Follow::no);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().errnum(), EIO);
    EXPECT_NE(a.error().message().find("ext2fs: inode 7: is reserved"), std::string::npos)
        << a.error().message();
}

}  // namespace
}  // namespace uk::ext2fs::test
