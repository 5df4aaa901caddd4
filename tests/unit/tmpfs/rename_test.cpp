// tmpfs rename: moves, replacements, link counts and "..", and the errors rename(2) lists.
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

using Names = std::vector<std::string>;

TEST_F(TmpfsTest, RenameWithinADirectory) {
    InodeNo f = make("old");
    write("old", 0, "content");
    must(try_rename("old", "new"));
    EXPECT_EQ(err(resolve("old")), ENOENT);
    EXPECT_EQ(stat("new").ino, f);
    EXPECT_EQ(stat("new").nlink, 1u);
    EXPECT_EQ(read("new"), "content");
    EXPECT_EQ(names(""), (Names{".", "..", "new"}));
}

TEST_F(TmpfsTest, RenameOverAnExistingFile) {
    const vfs::StatFs start = statfs();
    InodeNo a = make("a");
    make("b");
    write("a", 0, "AAA");
    write("b", 0, std::string(8192, 'B'));
    VnodePtr b = get("b");  // the VFS holds the replaced node until it reclaims it
    must(try_rename("a", "b"));
    EXPECT_EQ(stat("b").ino, a);
    EXPECT_EQ(read("b"), "AAA");
    EXPECT_EQ(err(resolve("a")), ENOENT);
    EXPECT_EQ(must(b->getattr()).nlink, 0u);
    must(fs->reclaim(*b));
    EXPECT_EQ(statfs().bfree, start.bfree - 1);
    EXPECT_EQ(statfs().ffree, start.ffree - 1);
}

TEST_F(TmpfsTest, RenameOverAFileWithAnotherLinkKeepsIt) {
    make("a");
    make("b");
    must(try_link("b", "b2"));
    must(try_rename("a", "b"));
    EXPECT_EQ(stat("b2").nlink, 1u);
}

TEST_F(TmpfsTest, RenameDirectoryOverAnEmptyDirectory) {
    mkdir("p");
    mkdir("q");
    InodeNo src = mkdir("p/src");
    make("p/src/inside");
    mkdir("q/dst");
    EXPECT_EQ(stat("p").nlink, 3u);
    EXPECT_EQ(stat("q").nlink, 3u);
    VnodePtr dst = get("q/dst");
    must(try_rename("p/src", "q/dst"));
    EXPECT_EQ(stat("q/dst").ino, src);
    EXPECT_EQ(must(get("q/dst")->lookup("..")), stat("q").ino);
    EXPECT_EQ(stat("p").nlink, 2u);
    EXPECT_EQ(stat("q").nlink, 3u);  // lost dst, gained src
    EXPECT_EQ(must(dst->getattr()).nlink, 0u);
    must(fs->reclaim(*dst));
    EXPECT_EQ(names("q/dst"), (Names{".", "..", "inside"}));
}

TEST_F(TmpfsTest, RenameOverANonEmptyDirectoryIsEnotempty) {
    mkdir("a");
    mkdir("b");
    make("b/x");
    EXPECT_EQ(err(try_rename("a", "b")), ENOTEMPTY);
    EXPECT_EQ(names(""), (Names{".", "..", "a", "b"}));
}

TEST_F(TmpfsTest, RenameDirectoryWithinItsParent) {
    mkdir("p");
    mkdir("p/a");
    mkdir("p/b");
    VnodePtr b = get("p/b");
    must(try_rename("p/a", "p/b"));
    EXPECT_EQ(stat("p").nlink, 3u);
    must(fs->reclaim(*b));
    must(try_rename("p/b", "p/c"));
    EXPECT_EQ(stat("p").nlink, 3u);
    EXPECT_EQ(must(get("p/c")->lookup("..")), stat("p").ino);
}

TEST_F(TmpfsTest, RenameDirectoryAcrossDirectoriesFixesDotDot) {
    InodeNo from = mkdir("from");
    InodeNo to = mkdir("to");
    InodeNo d = mkdir("from/d");
    EXPECT_EQ(must(get("from/d")->lookup("..")), from);
    must(try_rename("from/d", "to/d2"));
    EXPECT_EQ(stat("to/d2").ino, d);
    EXPECT_EQ(must(get("to/d2")->lookup("..")), to);
    EXPECT_EQ(list("to/d2")[1].ino, to);
    EXPECT_EQ(stat("from").nlink, 2u);
    EXPECT_EQ(stat("to").nlink, 3u);
    EXPECT_EQ(stat("").nlink, 4u);
}

TEST_F(TmpfsTest, RenameOfALinkOntoItselfDoesNothing) {
    InodeNo f = make("f");
    must(try_link("f", "g"));
    must(try_rename("f", "g"));
    EXPECT_EQ(stat("f").ino, f);
    EXPECT_EQ(stat("g").ino, f);
    EXPECT_EQ(stat("f").nlink, 2u);
    must(try_rename("f", "f"));
    EXPECT_EQ(names(""), (Names{".", "..", "f", "g"}));
}

TEST_F(TmpfsTest, RenameTypeMismatchAndLoops) {
    mkdir("d");
    mkdir("d/sub");
    make("f");
    EXPECT_EQ(err(try_rename("f", "d")), EISDIR);
    EXPECT_EQ(err(try_rename("d", "f")), ENOTDIR);
    EXPECT_EQ(err(try_rename("d", "d/sub/below")), EINVAL);
    EXPECT_EQ(err(try_rename("d", "d/inside")), EINVAL);
    EXPECT_EQ(err(try_rename("missing", "x")), ENOENT);
    // A name that is not what the caller says: the driver checks it.
    VnodePtr f = get("f");
    EXPECT_EQ(err(root()->rename("d", *f, *root(), "x", nullptr)), ENOENT);
    VnodePtr d = get("d");
    EXPECT_EQ(err(root()->rename("d", *d, *root(), "f", nullptr)), EEXIST);
    EXPECT_EQ(names(""), (Names{".", "..", "d", "f"}));
}

TEST_F(TmpfsTest, RenameIntoARemovedDirectoryIsEnoent) {
    mkdir("gone");
    make("f");
    VnodePtr gone = get("gone");
    must(try_rmdir("gone"));
    VnodePtr f = get("f");
    EXPECT_EQ(err(root()->rename("f", *f, *gone, "f", nullptr)), ENOENT);
    must(fs->reclaim(*gone));
}

TEST_F(TmpfsTest, RenameMovesToTheEndOfTheListing) {
    make("a");
    make("b");
    make("c");
    must(try_rename("a", "z"));
    EXPECT_EQ(names(""), (Names{".", "..", "b", "c", "z"}));
    // A replaced entry keeps its place.
    must(try_rename("z", "b"));
    EXPECT_EQ(names(""), (Names{".", "..", "b", "c"}));
}

}  // namespace
}  // namespace uk::tmpfs::test
