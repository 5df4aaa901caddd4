// Crafted damage to small xorriso images: every mount, walk and read either works or fails
// with EIO and a message naming the structure; nothing crashes, hangs or allocates without
// bound (the suite runs under ASan/UBSan).
#include <cstring>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "fs/cd9660/fs.hpp"
#include "io/block_device.hpp"
#include "support.hpp"
#include "vfs/mount.hpp"

namespace uk::cd9660::test {
namespace {

using Bytes = std::vector<std::byte>;

std::uint32_t get32(const Bytes& b, std::size_t off) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | static_cast<std::uint8_t>(b.at(off + static_cast<std::size_t>(i)));
    return v;
}

// Store a both-endian 32-bit number (7.3.3).
void put733(Bytes& b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        b.at(off + static_cast<std::size_t>(i)) = static_cast<std::byte>(v >> (8 * i));
        b.at(off + 7 - static_cast<std::size_t>(i)) = static_cast<std::byte>(v >> (8 * i));
    }
}

std::uint8_t u8(const Bytes& b, std::size_t off) { return static_cast<std::uint8_t>(b.at(off)); }

struct Rec {
    std::size_t off;  // byte offset in the image
    std::uint32_t extent, size;
};

// Offset of the SUSP entry `sig` in the record at `rec` (its own area only), or nullopt.
std::optional<std::size_t> susp_entry(const Bytes& img, std::size_t rec, const char* sig) {
    const std::size_t len = u8(img, rec), name_len = u8(img, rec + 32);
    std::size_t off = rec + 33 + name_len + ((name_len & 1) == 0 ? 1 : 0);
    while (off + 4 <= rec + len) {
        const std::size_t elen = u8(img, off + 2);
        if (elen < 4)
            break;
        if (std::memcmp(img.data() + off, sig, 2) == 0)
            return off;
        off += elen;
    }
    return std::nullopt;
}

// The record of Rock Ridge name `name` in the directory at `lba` of `size` bytes.
std::optional<Rec> find(const Bytes& img, std::uint32_t lba, std::uint32_t size,
                        const std::string& name) {
    for (std::size_t s = 0; s < size; s += 2048) {
        std::size_t off = std::size_t{lba} * 2048 + s;
        const std::size_t end = off + 2048;
        while (off < end && u8(img, off) != 0) {
            if (auto nm = susp_entry(img, off, "NM")) {
                const std::size_t nlen = u8(img, *nm + 2) - 5;
                if (std::string(reinterpret_cast<const char*>(img.data() + *nm + 5), nlen) == name)
                    return Rec{off, get32(img, off + 2), get32(img, off + 10)};
            }
            off += u8(img, off);
        }
    }
    return std::nullopt;
}

Rec root_of(const Bytes& img) {
    const std::size_t r = 16 * 2048 + 156;
    return Rec{r, get32(img, r + 2), get32(img, r + 10)};
}

// Follow a path of Rock Ridge names from the root.
std::optional<Rec> path(const Bytes& img, const std::vector<std::string>& names) {
    Rec cur = root_of(img);
    for (const auto& n : names) {
        auto r = find(img, cur.extent, cur.size, n);
        if (!r)
            return std::nullopt;
        cur = *r;
    }
    return cur;
}

struct Outcome {
    bool mounted = false;
    std::vector<Error> errors;
    bool any(const std::string& text) const {
        for (const Error& e : errors)
            if (e.message().find(text) != std::string::npos)
                return true;
        return false;
    }
};

// Mount (read-only) and walk everything: list, stat, read, readlink; collect errors and check
// each is EIO with a message (or another errno for a plain reason).
Outcome mount_and_walk(Bytes bytes) {
    Outcome out;
    auto note = [&](const Error& e) {
        EXPECT_GT(e.errnum(), 0);
        if (e.errnum() == EIO) {
            EXPECT_FALSE(e.message().empty());
        }
        out.errors.push_back(e);
    };
    vfs::MountRequest req;
    req.device = std::make_shared<io::MemoryDevice>(std::move(bytes), true);
    req.flags = vfs::mnt_rdonly;
    req.cache_budget = std::size_t{1} << 20;
    auto fs = mount_cd9660(req);
    if (!fs) {
        note(fs.error());
        return out;
    }
    auto m = vfs::Mount::create(std::move(*fs), "cd9660", vfs::mnt_rdonly);
    if (!m) {
        note(m.error());
        return out;
    }
    out.mounted = true;
    std::vector<std::string> todo{"/"};
    std::set<vfs::InodeNo> seen;
    std::vector<std::byte> buf(65536);
    for (int steps = 0; !todo.empty() && steps < 2000; ++steps) {
        const std::string dir = todo.back();
        todo.pop_back();
        std::vector<std::string> names;
        auto r = (*m)->readdir(dir, 0, [&](const vfs::DirEntry& e, std::uint64_t) {
            if (e.name != "." && e.name != "..")
                names.emplace_back(e.name);
            return true;
        });
        if (!r)
            note(r.error());
        for (const auto& n : names) {
            const std::string p = (dir == "/" ? "" : dir) + "/" + n;
            auto a = (*m)->stat(p, vfs::Follow::no);
            if (!a) {
                note(a.error());
                continue;
            }
            if (a->type == vfs::VType::dir) {
                if (seen.insert(a->ino).second)
                    todo.push_back(p);
                auto up = (*m)->stat(p + "/..", vfs::Follow::no);
                if (!up)
                    note(up.error());
            } else if (a->type == vfs::VType::reg) {
                auto n2 = (*m)->read(p, 0, buf);
                if (!n2)
                    note(n2.error());
            } else if (a->type == vfs::VType::lnk) {
                auto t = (*m)->readlink(p);
                if (!t)
                    note(t.error());
            }
        }
    }
    (void)(*m)->unmount(true);
    return out;
}

class Corrupt : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!have_tool("xorriso"))
            return;
        s_dir = new TempDir;
        const fs::path src = s_dir->path() / "src";
        build_full_tree(src);
        const fs::path img = s_dir->path() / "rr.iso";
        if (run("xorriso -as mkisofs -R -rr_reloc_dir rr_moved -o " + img.string() + " " +
                src.string()) != 0)
            return;
        s_image = new Bytes(read_host(img));
        const fs::path small_src = s_dir->path() / "small";
        build_plain_tree(small_src);
        fs::create_symlink("readme.txt", small_src / "link");
        const fs::path small = s_dir->path() / "small.iso";
        if (run("xorriso -as mkisofs -R -o " + small.string() + " " + small_src.string()) == 0)
            s_small = new Bytes(read_host(small));
    }
    static void TearDownTestSuite() {
        delete s_image;
        s_image = nullptr;
        delete s_small;
        s_small = nullptr;
        delete s_dir;
        s_dir = nullptr;
    }
    void SetUp() override {
        if (s_image == nullptr || s_small == nullptr)
            GTEST_SKIP() << "xorriso is not installed";
    }
    static TempDir* s_dir;
    static Bytes* s_image;
    static Bytes* s_small;  // the plain tree and a symlink
};
TempDir* Corrupt::s_dir = nullptr;
Bytes* Corrupt::s_image = nullptr;
Bytes* Corrupt::s_small = nullptr;

TEST_F(Corrupt, IntactImageWalksCleanly) {
    const Outcome o = mount_and_walk(*s_image);
    EXPECT_TRUE(o.mounted);
    for (const Error& e : o.errors)
        ADD_FAILURE() << e.describe();
}

TEST_F(Corrupt, NoTerminator) {
    Bytes img = *s_image;
    // Every descriptor after the primary one becomes a copy of it: the set never ends.
    for (std::size_t lba = 17; lba < 16 + 64 + 2; ++lba)
        std::memcpy(img.data() + lba * 2048, img.data() + 16 * 2048, 2048);
    const Outcome o = mount_and_walk(img);
    EXPECT_FALSE(o.mounted);
    EXPECT_TRUE(o.any("terminator")) << o.errors.at(0).describe();
}

TEST_F(Corrupt, DescriptorSetRunsIntoData) {
    Bytes img = *s_image;
    for (std::size_t lba = 17; lba < 20; ++lba)  // the terminator is among these
        if (u8(img, lba * 2048) == 255)
            img[lba * 2048 + 1] = std::byte{'X'};
    const Outcome o = mount_and_walk(img);
    EXPECT_FALSE(o.mounted);
    EXPECT_TRUE(o.any("terminator")) << o.errors.at(0).describe();
}

TEST_F(Corrupt, RecordLengthTooLong) {
    Bytes img = *s_image;
    auto r = path(img, {"hello.txt"});
    ASSERT_TRUE(r);
    const std::size_t room = 2048 - r->off % 2048;
    img[r->off] = static_cast<std::byte>(std::min<std::size_t>(255, room + 1));
    if (room >= 255)
        img[r->off + 32] = std::byte{250};  // then the name cannot fit
    const Outcome o = mount_and_walk(img);
    EXPECT_TRUE(o.mounted);
    EXPECT_TRUE(o.any("directory record")) << (o.errors.empty() ? "no error" : "");
}

TEST_F(Corrupt, RecordLengthTooShort) {
    Bytes img = *s_image;
    auto r = path(img, {"multi"});
    ASSERT_TRUE(r);
    img[r->off] = std::byte{20};
    const Outcome o = mount_and_walk(img);
    EXPECT_TRUE(o.any("directory record length 20"));
}

TEST_F(Corrupt, ExtentPastTheEnd) {
    Bytes img = *s_image;
    auto r = path(img, {"multi"});
    ASSERT_TRUE(r);
    put733(img, r->off + 2, 0x7FFFFF00);
    const Outcome o = mount_and_walk(img);
    EXPECT_TRUE(o.mounted);
    EXPECT_TRUE(o.any("past the end of the image"));
}

TEST_F(Corrupt, DirectoryExtentPastTheEnd) {
    Bytes img = *s_image;
    auto r = path(img, {"sub"});
    ASSERT_TRUE(r);
    put733(img, r->off + 2, 0x7FFFFF00);
    const Outcome o = mount_and_walk(img);
    EXPECT_TRUE(o.mounted);
    EXPECT_FALSE(o.errors.empty());
}

TEST_F(Corrupt, ContinuationLoop) {
    Bytes img = *s_image;
    // The root's "." record continues its System Use area (the ER entry) elsewhere; make that
    // area hold a CE that points back to itself.
    const Rec root = root_of(img);
    const std::size_t dot = std::size_t{root.extent} * 2048;
    auto ce = susp_entry(img, dot, "CE");
    ASSERT_TRUE(ce) << "xorriso put no CE on the root";
    const std::uint32_t blk = get32(img, *ce + 4), off = get32(img, *ce + 12);
    const std::size_t area = std::size_t{blk} * 2048 + off;
    const std::uint8_t entry[4] = {'C', 'E', 28, 1};
    std::memcpy(img.data() + area, entry, 4);
    put733(img, area + 4, blk);
    put733(img, area + 12, off);
    put733(img, area + 20, 28);
    put733(img, *ce + 20, 28);
    const Outcome o = mount_and_walk(img);
    EXPECT_FALSE(o.mounted);
    EXPECT_TRUE(o.any("loop")) << o.errors.at(0).describe();
}

TEST_F(Corrupt, ContinuationTooLong) {
    Bytes img = *s_image;
    const Rec root = root_of(img);
    auto ce = susp_entry(img, std::size_t{root.extent} * 2048, "CE");
    ASSERT_TRUE(ce);
    put733(img, *ce + 20, 5000);
    const Outcome o = mount_and_walk(img);
    EXPECT_FALSE(o.mounted);
    EXPECT_TRUE(o.any("continuation area")) << o.errors.at(0).describe();
}

TEST_F(Corrupt, RelocationPointsToItself) {
    Bytes img = *s_image;
    // The moved directory's ".." carries PL: point it at the moved directory itself.
    auto moved = path(img, {"rr_moved", "level8"});
    ASSERT_TRUE(moved) << "no relocated directory";
    const std::size_t dot = std::size_t{moved->extent} * 2048;
    const std::size_t dotdot = dot + u8(img, dot);
    auto pl = susp_entry(img, dotdot, "PL");
    ASSERT_TRUE(pl);
    put733(img, *pl + 4, moved->extent);
    const Outcome o = mount_and_walk(img);
    EXPECT_TRUE(o.mounted);
    EXPECT_TRUE(o.any("relocation cycle"));
}

TEST_F(Corrupt, RelocationCycle) {
    Bytes img = *s_image;
    // level8's PL names level9 (its child), whose ".." names level8: a cycle.
    auto moved = path(img, {"rr_moved", "level8"});
    ASSERT_TRUE(moved);
    auto child = find(img, moved->extent, moved->size, "level9");
    ASSERT_TRUE(child);
    const std::size_t dot = std::size_t{moved->extent} * 2048;
    auto pl = susp_entry(img, dot + u8(img, dot), "PL");
    ASSERT_TRUE(pl);
    put733(img, *pl + 4, child->extent);
    const Outcome o = mount_and_walk(img);
    EXPECT_TRUE(o.mounted);
    EXPECT_TRUE(o.any("relocation cycle"));
}

TEST_F(Corrupt, Truncated) {
    for (std::size_t keep : {std::size_t{0}, std::size_t{32768}, std::size_t{34 * 2048},
                             s_image->size() / 2}) {
        Bytes img(s_image->begin(), s_image->begin() + static_cast<std::ptrdiff_t>(keep));
        const Outcome o = mount_and_walk(img);
        if (keep < 17 * 2048) {
            EXPECT_FALSE(o.mounted) << keep;
        }
    }
}

TEST_F(Corrupt, EveryByteOfTheRootDirectory) {
    // Flip each byte of the root directory's used part in turn: no crash, no hang.
    const Rec root = root_of(*s_small);
    const std::size_t base = std::size_t{root.extent} * 2048;
    std::size_t used = 0;
    while (used < 2048 && u8(*s_small, base + used) != 0)
        used += u8(*s_small, base + used);
    for (std::size_t i = 0; i < used; ++i) {
        Bytes img = *s_small;
        img[base + i] = static_cast<std::byte>(~static_cast<std::uint8_t>(img[base + i]));
        (void)mount_and_walk(img);
    }
}

}  // namespace
}  // namespace uk::cd9660::test
