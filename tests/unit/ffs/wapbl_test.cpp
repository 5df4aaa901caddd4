// NetBSD WAPBL logs: makefs cannot make one, so the tests write the log area and the
// superblock's journal fields themselves (sys/sys/wapbl_replay.h, sys/ufs/ufs/ufs_wapbl.h) over
// makefs images. A read-only mount and the checker must see the file system as replayed and
// never write; a broken log is an error naming the WAPBL structure (the checker: fsck_ffs'
// messages); the in-file-system log's inode, named by no directory, is not an unreferenced file.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fs/ffs/check/fsck.hpp"
#include "fs/ffs/superblock.hpp"
#include "fs/ffs/wapbl.hpp"
#include "image_support.hpp"

namespace uk::ffs::test {
namespace {

constexpr std::uint64_t sec = 512;  // the log's block size here, as NetBSD's on 512-byte disks
constexpr std::uint64_t log_count = 256;  // the end-of-partition log's blocks
// Where its records start: two blocks before the circular area's end, so the first record's
// blocks wrap round to its start.
constexpr std::uint64_t first_record = (log_count - 2) * sec;

std::vector<std::byte> slurp(const fs::path& p) {
    std::vector<std::byte> b(fs::file_size(p));
    std::ifstream in(p, std::ios::binary);
    in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return b;
}

void put32(std::vector<std::byte>& b, std::uint64_t at, std::uint32_t v, const Order& o) {
    Raw32 r;
    o.set(r, v);
    std::memcpy(b.data() + at, r.bytes, 4);
}
void put64(std::vector<std::byte>& b, std::uint64_t at, std::uint64_t v, const Order& o) {
    Raw64 r;
    o.set(r, v);
    std::memcpy(b.data() + at, r.bytes, 8);
}

// An image in memory with its superblock and geometry.
struct Image {
    std::vector<std::byte> b;
    FoundSuperblock f;
    Geometry g;

    explicit Image(std::vector<std::byte> bytes) : b(std::move(bytes)) {
        io::MemoryDevice dev(b, true);
        f = *find_superblock(dev);
        g = *derive_geometry(f, b.size());
    }
    std::uint64_t inode_off(std::uint64_t ino) const {
        return g.ino_to_fsba(ino) * g.fsize + std::uint64_t{g.ino_to_fsbo(ino)} * g.inode_size;
    }
    Dinode2 inode(std::uint64_t ino) const {
        Dinode2 d;
        std::memcpy(&d, b.data() + inode_off(ino), sizeof d);
        return d;
    }
    void set_inode(std::uint64_t ino, const Dinode2& d) {
        std::memcpy(b.data() + inode_off(ino), &d, sizeof d);
    }
    std::uint64_t db0(std::uint64_t ino) const { return g.order.u64(inode(ino).di_db[0]); }
    void store_super() { std::memcpy(b.data() + f.offset, &f.sb, sizeof f.sb); }
    // Turn the journal on in the superblock: version 1, `loc`, the locators, FS_DOWAPBL.
    void journal(std::uint8_t loc, std::uint64_t addr, std::uint64_t count, std::uint64_t ino,
                 bool dowapbl) {
        const Order& o = g.order;
        f.sb.fs_journal_version = ufs_wapbl_version;
        f.sb.fs_journal_location = loc;
        o.set(f.sb.fs_journallocs[wapbl_loc_addr], addr);
        o.set(f.sb.fs_journallocs[wapbl_loc_count], count);
        o.set(f.sb.fs_journallocs[wapbl_loc_blksz], sec);
        o.set(f.sb.fs_journallocs[wapbl_loc_ino], ino);
        if (dowapbl)
            o.set(f.sb.fs_flags, o.u32(f.sb.fs_flags) | fs_dowapbl);
        store_super();
    }
};

// A log being written: two commit headers, then records in the circular area from `tail`.
struct LogWriter {
    Order o;
    std::vector<std::byte> area;
    std::uint64_t circ_off = 2 * sec, circ_size, tail, pos;

    LogWriter(Order order, std::uint64_t count, std::uint64_t start)
        : o(order), area(count * sec), circ_size(count * sec - 2 * sec), tail(start), pos(start) {}
    void circ_write(std::span<const std::byte> data) {
        for (std::byte c : data) {
            area[pos] = c;
            if (++pos == circ_off + circ_size)
                pos = circ_off;
        }
    }
    // A WAPBL_WC_BLOCKS record: (sector address, contents) pairs.
    void blocks(const std::vector<std::pair<std::uint64_t, std::vector<std::byte>>>& list) {
        std::vector<std::byte> h(sec);
        std::uint64_t len = sec;
        for (std::size_t i = 0; i < list.size(); ++i) {
            put64(h, 16 + 16 * i, list[i].first, o);
            put32(h, 16 + 16 * i + 12, static_cast<std::uint32_t>(list[i].second.size()), o);
            len += list[i].second.size();
        }
        put32(h, 0, wapbl_wc_blocks, o);
        put32(h, 4, static_cast<std::uint32_t>(len), o);
        put32(h, 8, static_cast<std::uint32_t>(list.size()), o);
        circ_write(h);
        for (const auto& [daddr, data] : list)
            circ_write(data);
    }
    void simple(std::uint32_t type, const std::vector<std::pair<std::uint64_t, std::uint32_t>>& l) {
        std::vector<std::byte> h(sec);
        put32(h, 0, type, o);
        put32(h, 4, sec, o);
        put32(h, 8, static_cast<std::uint32_t>(l.size()), o);
        for (std::size_t i = 0; i < l.size(); ++i) {
            if (type == wapbl_wc_inodes) {
                put32(h, 16 + 8 * i, static_cast<std::uint32_t>(l[i].first), o);
                put32(h, 16 + 8 * i + 4, l[i].second, o);
            } else {
                put64(h, 16 + 16 * i, l[i].first, o);
                put32(h, 16 + 16 * i + 12, l[i].second, o);
            }
        }
        if (type == wapbl_wc_inodes)
            put32(h, 12, 1, o);  // wc_clear
        circ_write(h);
    }
    // Header `n` (0 or 1) with generation `gen` and the records written so far (or none).
    void header(int n, std::uint32_t gen, bool empty = false) {
        const std::uint64_t at = n * sec;
        put32(area, at, wapbl_wc_header, o);
        put32(area, at + 4, sec, o);
        put32(area, at + 12, gen, o);
        put32(area, at + 36, 1, o);
        put32(area, at + 40, 9, o);
        put32(area, at + 44, 9, o);
        put64(area, at + 48, empty ? 0 : pos, o);
        put64(area, at + 56, empty ? 0 : tail, o);
        put64(area, at + 64, circ_off, o);
        put64(area, at + 72, circ_size, o);
    }
};

struct Variant {
    const char* name;
    bool fs_big;
    std::endian log;
};

void PrintTo(const Variant& v, std::ostream* os) {
    *os << v.name;
}

class FfsWapbl : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("makefs"))
            GTEST_SKIP() << "makefs is not installed";
        fs::create_directories(m_work.path() / "src");
        write_host_file(m_work.path() / "src/f", pattern(5000, 7));
        write_host_file(m_work.path() / "src/g", pattern(3000, 9));
        write_host_file(m_work.path() / "src/jlog", pattern(64 * 1024, 11));
        m_img = m_work.path() / "img";
        const std::string opts = fmt::format("-o version=2,bsize=8192,fsize=1024 -s 4m{}",
                                             GetParam().fs_big ? " -B be" : " -B le");
        ASSERT_EQ(make_image(m_work.path() / "src", m_img, opts), 0);
        auto m = mount_image(m_img);
        ASSERT_TRUE(m) << m.error().describe();
        m_f = (*m)->stat("/f", vfs::Follow::yes)->ino;
        m_g = (*m)->stat("/g", vfs::Follow::yes)->ino;
        m_jlog = (*m)->stat("/jlog", vfs::Follow::yes)->ino;
    }

    // The end-of-partition log: a transaction that rewrites f's first fragment and shrinks f
    // to 4500 bytes (its inode on disk has a wrong link count the log's copy has not), then g's first fragment logged and revoked, then an inode list; the
    // records wrap round the end of the circular area. Returns the image with the log after
    // fs_size, FS_DOWAPBL set.
    std::vector<std::byte> journaled(const std::function<void(LogWriter&)>& tweak = {}) {
        Image im(slurp(m_img));
        const std::uint64_t fsize = im.g.fsize;
        const std::uint64_t count = log_count;
        LogWriter w(Order(GetParam().log), count, first_record);
        // f's inode sector with the new size, and f's first fragment.
        Dinode2 d = im.inode(m_f);
        im.g.order.set(d.di_size, std::uint64_t{4500});
        std::vector<std::byte> ino_sector(sec);
        const std::uint64_t ioff = im.inode_off(m_f);
        std::memcpy(ino_sector.data(), im.b.data() + ioff / sec * sec, sec);
        std::memcpy(ino_sector.data() + ioff % sec, &d, sizeof d);
        w.blocks({{im.db0(m_f) * fsize / sec, pattern(fsize, 99)}, {ioff / sec, ino_sector}});
        // On disk f's link count is wrong: only the replayed view checks clean.
        Dinode2 disk = im.inode(m_f);
        im.g.order.set(disk.di_nlink, std::uint16_t{2});
        im.set_inode(m_f, disk);
        w.blocks({{im.db0(m_g) * fsize / sec, pattern(fsize, 55)}});
        w.simple(wapbl_wc_revocations,
                 {{im.db0(m_g) * fsize / sec, static_cast<std::uint32_t>(fsize)}});
        w.simple(wapbl_wc_inodes, {});
        w.header(0, 4, true);  // stale
        w.header(1, 5);
        if (tweak)
            tweak(w);
        const std::uint64_t addr = im.b.size() / sec;
        im.journal(wapbl_journalloc_end_partition, addr, count, 0, true);
        im.b.insert(im.b.end(), w.area.begin(), w.area.end());
        return im.b;
    }

    std::string check_text(const fs::path& img, int& code) {
        auto dev = io::ImageFile::open(img.string(), true);
        EXPECT_TRUE(dev);
        std::string out;
        auto r = check::check(**dev, {}, [&](std::string_view s) { out += s; });
        EXPECT_TRUE(r) << r.error().describe();
        code = r ? r->exit_code : -1;
        return out;
    }

    TempDir m_work;
    fs::path m_img;
    std::uint64_t m_f = 0, m_g = 0, m_jlog = 0;
};

TEST_P(FfsWapbl, ReadOnlyMountAndCheckSeeTheReplayedLog) {
    const fs::path img = m_work.path() / "journaled";
    write_host_file(img, journaled());
    const std::string before = file_digest(img);

    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    auto attr = (*m)->stat("/f", vfs::Follow::yes);
    ASSERT_TRUE(attr);
    EXPECT_EQ(attr->size, 4500u);
    std::vector<std::byte> got(5000);
    auto n = (*m)->read("/f", 0, got);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, 4500u);
    const std::vector<std::byte> orig = pattern(5000, 7), logged = pattern(1024, 99);
    EXPECT_TRUE(std::equal(logged.begin(), logged.end(), got.begin())) << "f's logged fragment";
    EXPECT_TRUE(std::equal(orig.begin() + 1024, orig.begin() + 4500, got.begin() + 1024));
    // g's logged fragment was revoked: g reads as on disk.
    std::vector<std::byte> g(3000);
    ASSERT_TRUE((*m)->read("/g", 0, g));
    EXPECT_EQ(g, pattern(3000, 9));
    m->reset();

    int code = -1;
    const std::string text = check_text(img, code);
    EXPECT_EQ(code, 0) << text;
    EXPECT_NE(text.find("** File system is journaled; replaying journal\n"), std::string::npos)
        << text;

    // fsck -p leaves a journaled file system alone, as fsck_ffs -p does.
    {
        auto dev = io::ImageFile::open(img.string(), true);
        ASSERT_TRUE(dev);
        std::string out;
        check::CheckOptions preen;
        preen.preen = true;
        auto r = check::check(**dev, preen, [&](std::string_view t) { out += t; });
        ASSERT_TRUE(r);
        EXPECT_EQ(r->exit_code, 0);
        EXPECT_NE(out.find("file system is journaled; not checking"), std::string::npos) << out;
    }

    auto rw = mount_image(img, std::size_t{8} << 20, true);
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error().errnum(), EROFS);
    EXPECT_NE(rw.error().message().find("WAPBL"), std::string::npos) << rw.error().message();
    EXPECT_EQ(file_digest(img), before);
}

TEST_P(FfsWapbl, BrokenLogIsAnError) {
    struct Case {
        const char* name;
        std::function<void(LogWriter&)> tweak;
        const char* mount_msg;
        const char* fsck_msg;
    };
    const std::uint64_t first = first_record;
    const std::vector<Case> cases = {
        {"magic", [](LogWriter& w) { put32(w.area, 0, 0x12345678, w.o); }, "WAPBL commit header",
         "UNABLE TO READ JOURNAL FOR REPLAY"},
        {"circ", [](LogWriter& w) { put64(w.area, sec + 72, 1u << 30, w.o); },
         "WAPBL commit header", "UNABLE TO READ JOURNAL FOR REPLAY"},
        {"type", [&](LogWriter& w) { put32(w.area, first, 0x5741424c + 9, w.o); }, "WAPBL record",
         "UNABLE TO READ JOURNAL FOR REPLAY"},
        {"len", [&](LogWriter& w) { put32(w.area, first + 4, 0x7ffffe00, w.o); }, "WAPBL record",
         "UNABLE TO READ JOURNAL FOR REPLAY"},
        {"count", [&](LogWriter& w) { put32(w.area, first + 8, 1000, w.o); }, "WAPBL record",
         "UNABLE TO READ JOURNAL FOR REPLAY"},
        {"daddr", [&](LogWriter& w) { put64(w.area, first + 16, 1ull << 40, w.o); }, "WAPBL record",
         "UNABLE TO READ JOURNAL FOR REPLAY"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const fs::path img = m_work.path() / "broken";
        write_host_file(img, journaled(c.tweak));
        auto m = mount_image(img);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().errnum(), EIO);
        EXPECT_NE(m.error().message().find(c.mount_msg), std::string::npos) << m.error().message();
        int code = -1;
        const std::string text = check_text(img, code);
        EXPECT_EQ(code, 8);
        EXPECT_NE(text.find(std::string(c.fsck_msg) + "\nCONTINUE? no"), std::string::npos) << text;
    }
}

TEST_P(FfsWapbl, BadJournalFieldsInTheSuperblock) {
    struct Case {
        const char* name;
        void (*change)(Superblock&, const Order&);
        const char* fsck_msg;
    };
    const Case cases[] = {
        {"version", [](Superblock& sb, const Order&) { sb.fs_journal_version = 2; },
         "INVALID JOURNAL VERSION 2"},
        {"location", [](Superblock& sb, const Order&) { sb.fs_journal_location = 3; },
         "INVALID JOURNAL LOCATION 3"},
        {"flags",
         [](Superblock& sb, const Order& o) {
             o.set(sb.fs_flags, o.u32(sb.fs_flags) & ~fs_dowapbl);
             o.set(sb.fs_journal_flags, 4u);
         },
         "INVALID JOURNAL FLAGS 4"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        Image im(journaled());
        c.change(im.f.sb, im.g.order);
        im.store_super();
        const fs::path img = m_work.path() / "badsb";
        write_host_file(img, im.b);
        int code = -1;
        const std::string text = check_text(img, code);
        EXPECT_EQ(code, 8);
        EXPECT_NE(text.find(std::string(c.fsck_msg) + "\nCONTINUE? no"), std::string::npos) << text;
        if ((im.g.order.u32(im.f.sb.fs_flags) & fs_dowapbl) != 0) {
            EXPECT_FALSE(mount_image(img));
        }
    }
}

// Hostile logs: bytes of the headers and first records changed at random never crash, hang or
// write; the mount and the check either work or fail cleanly.
TEST_P(FfsWapbl, MutatedLogNeverCrashes) {
    const std::vector<std::byte> base = journaled();
    const std::uint64_t log = base.size() - log_count * sec;
    std::uint32_t x = 12345;
    for (int i = 0; i < 60; ++i) {
        std::vector<std::byte> b = base;
        for (int k = 0; k < 4; ++k) {
            x = x * 1103515245u + 12345u;
            const std::uint64_t region = (x >> 8) % 2 == 0 ? 0 : first_record - sec;
            const std::uint64_t at = log + region + (x >> 12) % (3 * sec);
            b[at] = static_cast<std::byte>(x >> 24);
        }
        auto dev = std::make_shared<io::MemoryDevice>(b, true);
        if (auto m = mount_device(dev)) {
            std::vector<std::byte> buf(8192);
            (void)(*m)->read("/f", 0, buf);
        }
        (void)check::check(*dev, {}, {});
    }
}

// A cleanly unmounted file system that had an in-file-system log keeps its inode (SF_LOG,
// nlink 1, in no directory): fsck_ffs skips it in pass 4, unless the superblock names another.
TEST_P(FfsWapbl, InFilesystemLogInode) {
    Image im(slurp(m_img));
    const Order& o = im.g.order;
    // Unname jlog: the entry before it in the root's first directory block takes its space.
    const std::uint64_t dir = im.db0(root_ino) * im.g.fsize;
    std::uint64_t prev = 0;
    for (std::uint64_t off = dir; off < dir + 512;) {
        DirectHeader h;
        std::memcpy(&h, im.b.data() + off, sizeof h);
        const std::string name(reinterpret_cast<const char*>(im.b.data() + off + sizeof h),
                               h.d_namlen);
        if (name == "jlog") {
            ASSERT_NE(prev, 0u);
            DirectHeader p;
            std::memcpy(&p, im.b.data() + prev, sizeof p);
            o.set(p.d_reclen, static_cast<std::uint16_t>(o.u16(p.d_reclen) + o.u16(h.d_reclen)));
            std::memcpy(im.b.data() + prev, &p, sizeof p);
            break;
        }
        prev = off;
        ASSERT_GT(o.u16(h.d_reclen), 0);
        off += o.u16(h.d_reclen);
    }
    Dinode2 d = im.inode(m_jlog);
    o.set(d.di_flags, o.u32(d.di_flags) | sf_log);
    im.set_inode(m_jlog, d);
    const std::uint64_t addr = im.db0(m_jlog) * im.g.fsize / sec;
    const fs::path img = m_work.path() / "infs";
    int code = -1;

    im.journal(wapbl_journalloc_in_filesystem, addr, 16, m_jlog + 1, false);
    write_host_file(img, im.b);
    std::string text = check_text(img, code);
    EXPECT_EQ(code, 8);
    EXPECT_NE(text.find(fmt::format("UNREF FILE  I={}", m_jlog)), std::string::npos) << text;

    im.journal(wapbl_journalloc_in_filesystem, addr, 16, m_jlog, false);
    write_host_file(img, im.b);
    text = check_text(img, code);
    EXPECT_EQ(code, 0) << text;

    // Still journaled, with an empty log in the file's blocks: replayed (nothing), clean.
    LogWriter w(Order(GetParam().log), 16, 2 * sec);
    w.header(0, 1, true);
    w.header(1, 0, true);
    std::memcpy(im.b.data() + addr * sec, w.area.data(), 2 * sec);
    im.journal(wapbl_journalloc_in_filesystem, addr, 16, m_jlog, true);
    write_host_file(img, im.b);
    text = check_text(img, code);
    EXPECT_EQ(code, 0) << text;
    EXPECT_NE(text.find("replaying journal"), std::string::npos) << text;
    auto m = mount_image(img);
    ASSERT_TRUE(m) << m.error().describe();
    std::vector<std::byte> f(5000);
    ASSERT_TRUE((*m)->read("/f", 0, f));
    EXPECT_EQ(f, pattern(5000, 7));
}

const Variant variants[] = {
    {"le", false, std::endian::little},
    {"be", true, std::endian::big},
    {"be_fs_le_log", true, std::endian::little},  // an FFS_EI file system on a little-endian host
};

INSTANTIATE_TEST_SUITE_P(Orders, FfsWapbl, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace uk::ffs::test
