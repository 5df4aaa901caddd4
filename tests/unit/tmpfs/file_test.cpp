// tmpfs regular files: reads and writes across pages, sparse files, truncation, size limits.
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

std::string pattern(std::size_t n, std::size_t seed = 0) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
    return s;
}

TEST_F(TmpfsTest, WriteThenReadAcrossPages) {
    make("f");
    const std::string data = pattern(3 * 4096 + 100);
    EXPECT_EQ(write("f", 0, data), data.size());
    EXPECT_EQ(stat("f").size, data.size());
    EXPECT_EQ(stat("f").blocks, 4u * 8);
    EXPECT_EQ(read("f"), data);
    EXPECT_EQ(read("f", 4000, 200), data.substr(4000, 200));  // straddles a page boundary
    EXPECT_EQ(read("f", data.size() - 10, 100), data.substr(data.size() - 10));  // short
    EXPECT_EQ(read("f", data.size(), 100), "");
    EXPECT_EQ(read("f", 1ull << 40, 100), "");

    write("f", 4090, "OVERWRITE");
    std::string expect = data;
    expect.replace(4090, 9, "OVERWRITE");
    EXPECT_EQ(read("f"), expect);
    EXPECT_EQ(stat("f").size, data.size());
}

TEST_F(TmpfsTest, SparseFileReadsZerosInHoles) {
    make("f");
    const std::uint64_t start_free = statfs().bfree;
    const std::uint64_t off = 10ull << 20;
    write("f", off, "tail");
    Attr a = stat("f");
    EXPECT_EQ(a.size, off + 4);
    EXPECT_EQ(a.blocks, 8u);  // one page
    EXPECT_EQ(statfs().bfree, start_free - 1);
    EXPECT_EQ(read("f", 0, 8192), std::string(8192, '\0'));
    EXPECT_EQ(read("f", off - 3, 7), std::string(3, '\0') + "tail");
    // A write in the middle of the hole allocates just its page.
    write("f", 5 << 20, "mid");
    EXPECT_EQ(stat("f").blocks, 16u);
    EXPECT_EQ(read("f", (5 << 20) - 1, 5), std::string("\0mid\0", 5));
}

TEST_F(TmpfsTest, TruncateShrinksAndZeroesTheTail) {
    make("f");
    write("f", 0, std::string(3 * 4096, 'x'));
    const std::uint64_t full_free = statfs().bfree;
    SetAttr c;
    c.size = 5000;
    setattr("f", c);
    EXPECT_EQ(stat("f").size, 5000u);
    EXPECT_EQ(stat("f").blocks, 16u);
    EXPECT_EQ(statfs().bfree, full_free + 1);
    EXPECT_EQ(read("f"), std::string(5000, 'x'));

    // Extending shows zeros where the old data was, and allocates nothing.
    c.size = 12000;
    setattr("f", c);
    EXPECT_EQ(stat("f").blocks, 16u);
    EXPECT_EQ(read("f"), std::string(5000, 'x') + std::string(7000, '\0'));

    // Writing past the end after a shrink shows zeros in between too.
    c.size = 10;
    setattr("f", c);
    write("f", 20, "end");
    EXPECT_EQ(read("f"), std::string(10, 'x') + std::string(10, '\0') + "end");

    c.size = 0;
    setattr("f", c);
    EXPECT_EQ(stat("f").blocks, 0u);
    EXPECT_EQ(statfs().bfree, full_free + 3);
    EXPECT_EQ(read("f"), "");
}

TEST_F(TmpfsTest, TruncateAtPageBoundaryFreesWholePages) {
    make("f");
    write("f", 0, std::string(2 * 4096, 'y'));
    SetAttr c;
    c.size = 4096;
    setattr("f", c);
    EXPECT_EQ(stat("f").blocks, 8u);
    c.size = 8192;
    setattr("f", c);
    EXPECT_EQ(read("f", 4096, 4096), std::string(4096, '\0'));
}

TEST_F(TmpfsTest, OffsetsPastTheMaximumFileSizeAreEfbig) {
    make("f");
    VnodePtr f = get("f");
    const std::uint64_t max = INT64_MAX;
    EXPECT_EQ(err(f->write(max, bytes("x"))), EFBIG);
    EXPECT_EQ(err(f->write(max + 100, bytes("x"))), EFBIG);
    // A write that would cross the limit stops at it.
    EXPECT_EQ(must(f->write(max - 2, bytes("abcd"))), 2u);
    EXPECT_EQ(must(f->getattr()).size, max);
    SetAttr c;
    c.size = max + 1;
    EXPECT_EQ(err(f->setattr(c)), EFBIG);
    c.size = 0;
    must(f->setattr(c));
    EXPECT_EQ(must(f->getattr()).blocks, 0u);
}

TEST_F(TmpfsTest, EmptyWriteChangesNothing) {
    make("f");
    SetAttr c;
    c.mtime = timespec{100, 0};
    setattr("f", c);
    EXPECT_EQ(must(get("f")->write(50, {})), 0u);
    EXPECT_EQ(stat("f").size, 0u);
    EXPECT_EQ(ts(stat("f").mtime), ts(timespec{100, 0}));
}

TEST_F(TmpfsTest, SizeLimitGivesEnospc) {
    tmpfs_args a = make_args(4 * 4096);
    mount(&a);
    EXPECT_EQ(statfs().blocks, 4u);
    make("f");
    VnodePtr f = get("f");
    const std::string five_pages(5 * 4096, 'z');
    EXPECT_EQ(must(f->write(0, bytes(five_pages))), 4u * 4096);  // as much as fits
    EXPECT_EQ(err(f->write(4 * 4096, bytes("more"))), ENOSPC);
    EXPECT_EQ(statfs().bfree, 0u);
    EXPECT_EQ(statfs().bavail, 0u);
    // Overwriting allocated pages needs no space.
    EXPECT_EQ(must(f->write(10, bytes("over"))), 4u);
    // A hole costs nothing, and truncation gives the pages back.
    SetAttr c;
    c.size = 1 << 30;
    must(f->setattr(c));
    c.size = 4096;
    must(f->setattr(c));
    EXPECT_EQ(statfs().bfree, 3u);
    make("g");
    EXPECT_EQ(write("g", 0, std::string(3 * 4096, 'g')), 3u * 4096);
    EXPECT_EQ(err(get("g")->write(1 << 20, bytes("x"))), ENOSPC);
}

TEST_F(TmpfsTest, SizeLimitRoundsUpToPages) {
    tmpfs_args a = make_args(10000);
    mount(&a);
    EXPECT_EQ(statfs().blocks, 3u);
    a = make_args(4095);  // under a page: no limit, as NetBSD's tmpfs_mount says
    mount(&a);
    make("f");
    write("f", 0, std::string(64 * 1024, 'q'));
    EXPECT_EQ(stat("f").blocks, 128u);
}

TEST_F(TmpfsTest, OverwriteKeepsOtherFilesIntact) {
    make("a");
    make("b");
    const std::string pa = pattern(20000, 1), pb = pattern(9000, 2);
    write("a", 0, pa);
    write("b", 0, pb);
    write("a", 100, "changed");
    EXPECT_EQ(read("b"), pb);
    EXPECT_EQ(read("a").substr(0, 100), pa.substr(0, 100));
}

}  // namespace
}  // namespace uk::tmpfs::test
