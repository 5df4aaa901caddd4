// tmpfs directories: listing and its cookies, link counts, removal, open-but-unlinked nodes.
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

using Names = std::vector<std::string>;

TEST_F(TmpfsTest, ReaddirListsDotsFirstThenInsertionOrder) {
    InodeNo d = mkdir("d");
    make("d/zeta");
    make("d/alpha");
    mkdir("d/mid");
    std::vector<Listed> all = list("d");
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].name, ".");
    EXPECT_EQ(all[0].ino, d);
    EXPECT_EQ(all[0].type, VType::dir);
    EXPECT_EQ(all[1].name, "..");
    EXPECT_EQ(all[1].ino, fs->root());
    EXPECT_EQ(all[2].name, "zeta");
    EXPECT_EQ(all[3].name, "alpha");
    EXPECT_EQ(all[4].name, "mid");
    EXPECT_EQ(all[4].type, VType::dir);
    // The root's ".." is itself.
    EXPECT_EQ(list("")[1].ino, fs->root());
    // Size grows with the entries.
    EXPECT_GT(stat("d").size, stat("d/mid").size);
}

TEST_F(TmpfsTest, ReaddirResumesAtEveryCookie) {
    mkdir("d");
    for (int i = 0; i < 10; ++i)
        make("d/f" + std::to_string(i));
    std::vector<Listed> all = list("d");
    ASSERT_EQ(all.size(), 12u);
    for (std::size_t i = 0; i < all.size(); ++i) {
        std::vector<Listed> rest = list("d", all[i].next);
        ASSERT_EQ(rest.size(), all.size() - i - 1) << "after " << all[i].name;
        if (!rest.empty()) {
            EXPECT_EQ(rest[0].name, all[i + 1].name);
        }
    }
    EXPECT_TRUE(list("d", all.back().next).empty());
    EXPECT_TRUE(list("d", UINT64_MAX).empty());
}

TEST_F(TmpfsTest, ReaddirResumesCorrectlyAfterRemovals) {
    mkdir("d");
    for (int i = 0; i < 6; ++i)
        make("d/f" + std::to_string(i));
    // Read ".", "..", f0, f1, f2 and stop.
    std::vector<Listed> first = list("d", 0, 5);
    ASSERT_EQ(first.size(), 5u);
    EXPECT_EQ(first.back().name, "f2");
    // Remove entries already listed and the one that would come next.
    remove_and_reclaim("d/f0");
    remove_and_reclaim("d/f1");
    remove_and_reclaim("d/f3");
    make("d/new");  // appended at the end
    Names rest;
    for (const Listed& e : list("d", first.back().next))
        rest.push_back(e.name);
    EXPECT_EQ(rest, (Names{"f4", "f5", "new"}));
    // Removing the entry the listing stopped at changes nothing either.
    std::vector<Listed> again = list("d", 0, 3);  // ".", "..", f2
    EXPECT_EQ(again.back().name, "f2");
    remove_and_reclaim("d/f2");
    rest.clear();
    for (const Listed& e : list("d", again.back().next))
        rest.push_back(e.name);
    EXPECT_EQ(rest, (Names{"f4", "f5", "new"}));
}

TEST_F(TmpfsTest, DirectoryLinkCountsFollowSubdirectories) {
    EXPECT_EQ(stat("").nlink, 2u);
    mkdir("a");
    EXPECT_EQ(stat("").nlink, 3u);
    mkdir("b");
    make("file");
    EXPECT_EQ(stat("").nlink, 4u);  // files do not count
    mkdir("a/x");
    mkdir("a/y");
    EXPECT_EQ(stat("a").nlink, 4u);
    must(try_rmdir("a/x"));
    EXPECT_EQ(stat("a").nlink, 3u);
    must(try_rmdir("b"));
    EXPECT_EQ(stat("").nlink, 3u);
}

TEST_F(TmpfsTest, HardLinksShareTheNode) {
    mkdir("d");
    InodeNo f = make("f");
    write("f", 0, "shared");
    must(try_link("f", "d/g"));
    EXPECT_EQ(stat("d/g").ino, f);
    EXPECT_EQ(stat("f").nlink, 2u);
    write("d/g", 0, "SH");
    EXPECT_EQ(read("f"), "SHared");
    EXPECT_EQ(names("d"), (Names{".", "..", "g"}));
    must(try_remove("f"));
    EXPECT_EQ(stat("d/g").nlink, 1u);
    EXPECT_EQ(read("d/g"), "SHared");
    EXPECT_EQ(err(resolve("f")), ENOENT);
}

TEST_F(TmpfsTest, LinkErrors) {
    mkdir("d");
    make("f");
    EXPECT_EQ(err(try_link("d", "d2")), EPERM);
    EXPECT_EQ(err(try_link("f", "d")), EEXIST);
    EXPECT_EQ(err(try_link("f", "f/x")), ENOTDIR);
    // A node whose last link is gone cannot get a new one.
    VnodePtr f = get("f");
    must(try_remove("f"));
    EXPECT_EQ(err(get("d")->link("again", *f)), ENOENT);
}

TEST_F(TmpfsTest, LinkCountStopsAtLinkMax) {
    make("f");
    VnodePtr f = get("f");
    VnodePtr dir = root();
    for (int i = 1; i < 32767; ++i)
        must(dir->link("l" + std::to_string(i), *f));
    EXPECT_EQ(must(f->getattr()).nlink, 32767u);
    EXPECT_EQ(err(dir->link("one_more", *f)), EMLINK);
}

TEST_F(TmpfsTest, RemoveAndRmdirErrors) {
    mkdir("d");
    make("d/f");
    make("f");
    EXPECT_EQ(err(try_rmdir("d")), ENOTEMPTY);
    EXPECT_EQ(err(try_rmdir("f")), ENOTDIR);
    EXPECT_EQ(err(try_remove("d")), EPERM);
    // The child must be what the name names.
    VnodePtr other = get("f");
    EXPECT_EQ(err(get("d")->remove("f", *other)), ENOENT);
    EXPECT_EQ(err(get("d")->remove("missing", *other)), ENOENT);
    EXPECT_EQ(err(get("f")->remove("x", *other)), ENOTDIR);
    must(try_remove("d/f"));
    must(try_rmdir("d"));
    EXPECT_EQ(names(""), (Names{".", "..", "f"}));
}

TEST_F(TmpfsTest, RemovedDirectoryTakesNoNewEntries) {
    mkdir("d");
    VnodePtr d = get("d");
    must(try_rmdir("d"));
    EXPECT_EQ(must(d->getattr()).nlink, 0u);
    EXPECT_EQ(err(d->create("f", NewNode{})), ENOENT);
    EXPECT_EQ(err(d->lookup("f")), ENOENT);
    std::vector<std::string> seen;
    must(d->readdir(0, [&](const vfs::DirEntry& e, std::uint64_t) {
        seen.emplace_back(e.name);
        return true;
    }));
    EXPECT_EQ(seen, (Names{".", ".."}));
    must(fs->reclaim(*d));
}

TEST_F(TmpfsTest, UnlinkedFileLivesUntilReclaimed) {
    const vfs::StatFs start = statfs();
    make("f");
    write("f", 0, std::string(3 * 4096, 'o'));
    VnodePtr open = get("f");  // an open descriptor
    must(try_remove("f"));
    EXPECT_EQ(err(resolve("f")), ENOENT);
    Attr a = must(open->getattr());
    EXPECT_EQ(a.nlink, 0u);
    EXPECT_EQ(a.size, 3u * 4096);
    std::string buf(5, '\0');
    EXPECT_EQ(must(open->read(4096, std::as_writable_bytes(std::span<char>(buf)))), 5u);
    EXPECT_EQ(buf, "ooooo");
    must(open->write(0, bytes("still")));
    EXPECT_EQ(statfs().bfree, start.bfree - 3);
    EXPECT_EQ(statfs().ffree, start.ffree - 1);
    must(fs->reclaim(*open));
    EXPECT_EQ(statfs().bfree, start.bfree);
    EXPECT_EQ(statfs().ffree, start.ffree);
    EXPECT_EQ(err(fs->load(a.ino)), ENOENT);
    must(fs->reclaim(*open));  // a second reclaim is harmless
    EXPECT_EQ(statfs().ffree, start.ffree);
}

TEST_F(TmpfsTest, ReclaimOfALinkedNodeDoesNothing) {
    make("f");
    write("f", 0, "keep");
    must(fs->reclaim(*get("f")));
    EXPECT_EQ(read("f"), "keep");
}

TEST_F(TmpfsTest, ReclaimGivesAllMemoryBack) {
    const vfs::StatFs start = statfs();
    mkdir("d");
    mkdir("d/e");
    make("d/e/big");
    write("d/e/big", 0, std::string(100000, 'b'));
    write("d/e/big", 50ull << 20, "sparse");
    make("d/small");
    write("d/small", 0, "s");
    must(try_link("d/small", "d/e/second"));
    must(root()->symlink("l", "d/e/big", NewNode{VType::lnk, 0777, 0, 0, 0}));
    EXPECT_LT(statfs().bfree, start.bfree);
    remove_and_reclaim("l");
    must(try_remove("d/small"));
    remove_and_reclaim("d/e/second");
    remove_and_reclaim("d/e/big");
    remove_and_reclaim("d/e");
    remove_and_reclaim("d");
    const vfs::StatFs end = statfs();
    EXPECT_EQ(end.bfree, start.bfree);
    EXPECT_EQ(end.ffree, start.ffree);
    EXPECT_EQ(end.files, start.files);
    EXPECT_EQ(stat("").nlink, 2u);
}

}  // namespace
}  // namespace uk::tmpfs::test
