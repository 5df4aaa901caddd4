// Shared by the FFS semantics tests (file flags, allocation by cylinder group, sockets, the C
// API's mount arguments): empty images made at test time by makefs or our newfs, our checker's
// verdict on an image, and an on-disk reader of the image file that finds inodes and
// cylinder-group headers by fs.h's address arithmetic, for assertions on what the driver wrote.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/newfs.hpp"
#include "fs/ffs/superblock.hpp"
#include "image_support.hpp"

namespace uk::ffs::test {

// An empty image: made by makefs (from an empty directory) or by our newfs.
struct RwImage {
    const char* name;
    bool makefs;
    int version;
    std::endian order;
    std::uint32_t bsize = 8192;
    std::uint32_t fsize = 1024;
};

inline std::string rw_image_name(const ::testing::TestParamInfo<RwImage>& info) {
    return info.param.name;
}

// Both versions, both byte orders and both makers, 8 KiB blocks of 1 KiB fragments.
inline const RwImage rw_images[] = {
    {"ufs1_le_makefs", true, 1, std::endian::little},
    {"ufs1_be_newfs", false, 1, std::endian::big},
    {"ufs2_le_newfs", false, 2, std::endian::little},
    {"ufs2_be_makefs", true, 2, std::endian::big},
};

// Make `img` of `mib` MiB; a failure is reported through gtest. The caller skips makefs rows
// when makefs is missing. makefs is given newfs' default density (an inode per 4 fragments):
// from an empty source it would make only a few inodes per group.
inline void make_rw_image(const RwImage& v, const fs::path& img, std::uint64_t mib) {
    if (v.makefs) {
        const fs::path src = img.parent_path() / "empty-src";
        fs::create_directories(src);
        const std::string opts = fmt::format(
            "-s {}m -B {} -o version={},bsize={},fsize={},density={}", mib,
            v.order == std::endian::little ? "le" : "be", v.version, v.bsize, v.fsize, 4 * v.fsize);
        ASSERT_EQ(make_image(src, img, opts), 0) << "makefs " << opts;
        return;
    }
    write_host_file(img, {});
    fs::resize_file(img, mib << 20);
    auto dev = io::ImageFile::open(img.string(), false);
    ASSERT_TRUE(dev) << dev.error().describe();
    NewfsOptions o;
    o.version = v.version;
    o.order = v.order;
    o.bsize = v.bsize;
    o.fsize = v.fsize;
    auto made = newfs(**dev, o);
    ASSERT_TRUE(made) << made.error().describe();
}

// A test on one image of `RwImage` rows, made of 8 MiB in a temporary directory (makefs rows
// skipped where makefs is missing).
class RwImageTest : public ::testing::TestWithParam<RwImage> {
protected:
    void SetUp() override {
        if (GetParam().makefs && !have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        m_img = m_work.path() / "img";
        make_rw_image(GetParam(), m_img, 8);
    }
    TempDir m_work;
    fs::path m_img;
};

// Our checker (fsck_ffs -n's phases) finds nothing wrong with `img`.
inline ::testing::AssertionResult checker_clean(const fs::path& img) {
    auto dev = io::ImageFile::open(img.string(), true);
    if (!dev)
        return ::testing::AssertionFailure() << dev.error().describe();
    std::string out;
    auto r = check::check(**dev, {}, [&](std::string_view s) { out += s; });
    if (!r)
        return ::testing::AssertionFailure() << r.error().describe();
    if (r->exit_code != 0 || !r->problems.empty())
        return ::testing::AssertionFailure() << "exit " << r->exit_code << "\n" << out;
    return ::testing::AssertionSuccess();
}

// Reads an image file's inodes and cylinder groups where fs.h puts them, after the driver's sync
// or unmount. Each call reads the file as it is at that moment.
class OnDisk {
public:
    explicit OnDisk(const fs::path& img) {
        auto dev = io::ImageFile::open(img.string(), true);
        if (!dev)
            throw std::runtime_error(dev.error().describe());
        m_dev = std::move(*dev);
        auto found = find_superblock(*m_dev);
        if (!found)
            throw std::runtime_error(found.error().describe());
        auto g = derive_geometry(*found, m_dev->size());
        if (!g)
            throw std::runtime_error(g.error().describe());
        m_g = *g;
    }
    const Geometry& g() const { return m_g; }

    // Where the inode is in the image, and its bytes (128 for UFS1, 256 for UFS2).
    std::uint64_t inode_offset(std::uint64_t ino) const {
        return (m_g.ino_to_fsba(ino) << m_g.fshift) +
               std::uint64_t{m_g.ino_to_fsbo(ino)} * m_g.inode_size;
    }
    std::vector<std::byte> inode(std::uint64_t ino) const {
        std::vector<std::byte> b(m_g.inode_size);
        read(inode_offset(ino), b);
        return b;
    }
    // A field of the inode, at its byte offset in NetBSD's struct ufs1_dinode or ufs2_dinode
    // (sys/ufs/ufs/dinode.h), in the image's byte order.
    std::uint32_t inode_u32(std::uint64_t ino, std::size_t ufs1_off, std::size_t ufs2_off) const {
        return decode<std::uint32_t>(inode(ino), m_g.ufs2 ? ufs2_off : ufs1_off);
    }
    std::uint16_t mode(std::uint64_t ino) const { return decode<std::uint16_t>(inode(ino), 0); }
    std::uint32_t flags(std::uint64_t ino) const { return inode_u32(ino, 100, 88); }  // di_flags
    // di_blocks: 512-byte sectors held.
    std::uint64_t blocks(std::uint64_t ino) const {
        return m_g.ufs2 ? decode<std::uint64_t>(inode(ino), 24) : inode_u32(ino, 104, 0);
    }
    // di_db[i]: the fragment address of direct block i.
    std::uint64_t db(std::uint64_t ino, unsigned i) const {
        const auto b = inode(ino);
        return m_g.ufs2 ? decode<std::uint64_t>(b, 112 + 8 * i)
                        : decode<std::uint32_t>(b, 40 + 4 * i);
    }

    // Cylinder group c's counts (cg_cs) as the disk has them now.
    struct Group {
        std::uint32_t ndir = 0, nbfree = 0, nifree = 0, nffree = 0;
    };
    Group group(std::uint32_t c) const {
        std::vector<std::byte> b(sizeof(CylinderGroup));
        read(m_g.cgtod(c) << m_g.fshift, b);
        CylinderGroup h;
        std::memcpy(&h, b.data(), sizeof h);
        const Order o = m_g.order;
        return Group{o.u32(h.cg_cs.cs_ndir), o.u32(h.cg_cs.cs_nbfree), o.u32(h.cg_cs.cs_nifree),
                     o.u32(h.cg_cs.cs_nffree)};
    }
    // The group a fragment address lies in (dtog).
    std::uint32_t dtog(std::uint64_t frag) const {
        return static_cast<std::uint32_t>(frag / m_g.fpg);
    }

private:
    void read(std::uint64_t off, std::vector<std::byte>& b) const {
        auto r = m_dev->read_at(off, b);
        if (!r)
            throw std::runtime_error(r.error().describe());
    }
    template <class T>
    T decode(const std::vector<std::byte>& b, std::size_t off) const {
        T v;
        std::memcpy(&v, b.data() + off, sizeof v);
        if (m_g.order.endian() != std::endian::native)
            v = byteswap_any(v);
        return v;
    }
    template <class T>
    static T byteswap_any(T v) {
        T out;
        auto* s = reinterpret_cast<const unsigned char*>(&v);
        auto* d = reinterpret_cast<unsigned char*>(&out);
        for (std::size_t i = 0; i < sizeof v; ++i)
            d[i] = s[sizeof v - 1 - i];
        return out;
    }

    std::unique_ptr<io::BlockDevice> m_dev;
    Geometry m_g;
};

}  // namespace uk::ffs::test
