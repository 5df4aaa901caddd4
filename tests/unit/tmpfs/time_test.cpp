// tmpfs timestamps, as POSIX says each operation marks them (XBD 4.9). Tests compare the times
// before and after an operation, with tick() in between so that "changed" means "later".
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

struct Times {
    timespec atime, mtime, ctime, birthtime;
};

class TmpfsTimes : public TmpfsTest {
protected:
    Times times(std::string_view path) {
        Attr a = stat(path);
        return {a.atime, a.mtime, a.ctime, a.birthtime};
    }
    // Take a snapshot, then let the clock move on.
    Times before(std::string_view path) {
        Times t = times(path);
        tick();
        return t;
    }
};

TEST_F(TmpfsTimes, CreateSetsAllFourTimesAndTheParentsMtimeCtime) {
    mkdir("d");
    const Times d0 = before("d");
    make("d/f");
    const Times f = times("d/f");
    EXPECT_EQ(ts(f.atime), ts(f.mtime));
    EXPECT_EQ(ts(f.ctime), ts(f.mtime));
    EXPECT_EQ(ts(f.birthtime), ts(f.mtime));
    EXPECT_TRUE(later(f.mtime, d0.mtime));
    const Times d1 = times("d");
    EXPECT_EQ(ts(d1.mtime), ts(f.mtime));
    EXPECT_EQ(ts(d1.ctime), ts(f.mtime));
    EXPECT_EQ(ts(d1.atime), ts(d0.atime));
    EXPECT_EQ(ts(d1.birthtime), ts(d0.birthtime));
}

TEST_F(TmpfsTimes, WriteSetsMtimeAndCtime) {
    make("f");
    const Times t0 = before("f");
    write("f", 0, "data");
    const Times t1 = times("f");
    EXPECT_TRUE(later(t1.mtime, t0.mtime));
    EXPECT_TRUE(later(t1.ctime, t0.ctime));
    EXPECT_EQ(ts(t1.atime), ts(t0.atime));
    EXPECT_EQ(ts(t1.birthtime), ts(t0.birthtime));
}

TEST_F(TmpfsTimes, ReadSetsAtimeOnly) {
    make("f");
    write("f", 0, "data");
    const Times t0 = before("f");
    read("f");
    const Times t1 = times("f");
    EXPECT_TRUE(later(t1.atime, t0.atime));
    EXPECT_EQ(ts(t1.mtime), ts(t0.mtime));
    EXPECT_EQ(ts(t1.ctime), ts(t0.ctime));
    // A read of nothing marks nothing.
    const Times t2 = before("f");
    EXPECT_EQ(must(get("f")->read(0, {})), 0u);
    EXPECT_EQ(ts(times("f").atime), ts(t2.atime));
}

TEST_F(TmpfsTimes, NoatimeMountKeepsAtime) {
    tmpfs_args a = make_args();
    mount(&a, MNT_NOATIME);
    make("f");
    write("f", 0, "data");
    mkdir("d");
    must(root()->symlink("l", "f", NewNode{VType::lnk, 0777, 0, 0, 0}));
    const Times f0 = before("f");
    const Times d0 = times("d");
    const Times l0 = times("l");
    read("f");
    list("d");
    must(get("l")->readlink());
    EXPECT_EQ(ts(times("f").atime), ts(f0.atime));
    EXPECT_EQ(ts(times("d").atime), ts(d0.atime));
    EXPECT_EQ(ts(times("l").atime), ts(l0.atime));
}

TEST_F(TmpfsTimes, ReaddirAndReadlinkSetAtime) {
    mkdir("d");
    must(root()->symlink("l", "d", NewNode{VType::lnk, 0777, 0, 0, 0}));
    const Times d0 = times("d");
    const Times l0 = before("l");
    list("d");
    must(get("l")->readlink());
    EXPECT_TRUE(later(times("d").atime, d0.atime));
    EXPECT_EQ(ts(times("d").mtime), ts(d0.mtime));
    EXPECT_TRUE(later(times("l").atime, l0.atime));
    EXPECT_EQ(ts(times("l").ctime), ts(l0.ctime));
}

TEST_F(TmpfsTimes, LinkSetsTheNodesCtimeAndTheDirectorysMtimeCtime) {
    make("f");
    mkdir("d");
    const Times f0 = times("f");
    const Times d0 = before("d");
    must(try_link("f", "d/g"));
    const Times f1 = times("f"), d1 = times("d");
    EXPECT_TRUE(later(f1.ctime, f0.ctime));
    EXPECT_EQ(ts(f1.mtime), ts(f0.mtime));
    EXPECT_TRUE(later(d1.mtime, d0.mtime));
    EXPECT_TRUE(later(d1.ctime, d0.ctime));
}

TEST_F(TmpfsTimes, RemoveSetsTheDirectorysTimesAndTheNodesCtime) {
    make("f");
    must(try_link("f", "g"));
    const Times f0 = times("f");
    const Times r0 = before("");
    must(try_remove("g"));
    const Times f1 = times("f"), r1 = times("");
    EXPECT_TRUE(later(f1.ctime, f0.ctime));
    EXPECT_EQ(ts(f1.mtime), ts(f0.mtime));
    EXPECT_TRUE(later(r1.mtime, r0.mtime));
    EXPECT_TRUE(later(r1.ctime, r0.ctime));
}

TEST_F(TmpfsTimes, RmdirSetsTheParentsTimes) {
    mkdir("p");
    mkdir("p/d");
    const Times p0 = before("p");
    must(try_rmdir("p/d"));
    EXPECT_TRUE(later(times("p").mtime, p0.mtime));
    EXPECT_TRUE(later(times("p").ctime, p0.ctime));
}

TEST_F(TmpfsTimes, RenameSetsBothDirectoriesAndTheNodesCtime) {
    mkdir("a");
    mkdir("b");
    make("a/f");
    write("a/f", 0, "x");
    const Times a0 = times("a"), b0 = times("b");
    const Times f0 = before("a/f");
    must(try_rename("a/f", "b/f"));
    const Times a1 = times("a"), b1 = times("b"), f1 = times("b/f");
    EXPECT_TRUE(later(a1.mtime, a0.mtime));
    EXPECT_TRUE(later(a1.ctime, a0.ctime));
    EXPECT_TRUE(later(b1.mtime, b0.mtime));
    EXPECT_TRUE(later(b1.ctime, b0.ctime));
    EXPECT_TRUE(later(f1.ctime, f0.ctime));
    EXPECT_EQ(ts(f1.mtime), ts(f0.mtime));
}

TEST_F(TmpfsTimes, SetattrSetsCtimeAndTheTimesGiven) {
    make("f");
    const Times t0 = before("f");
    SetAttr chmod;
    chmod.mode = 0600;
    setattr("f", chmod);
    Times t1 = times("f");
    EXPECT_TRUE(later(t1.ctime, t0.ctime));
    EXPECT_EQ(ts(t1.mtime), ts(t0.mtime));
    EXPECT_EQ(ts(t1.atime), ts(t0.atime));

    SetAttr utimes;
    utimes.atime = timespec{111, 1};
    utimes.mtime = timespec{222, 2};
    setattr("f", utimes);
    t1 = times("f");
    EXPECT_EQ(ts(t1.atime), ts(timespec{111, 1}));
    EXPECT_EQ(ts(t1.mtime), ts(timespec{222, 2}));
    EXPECT_TRUE(later(t1.ctime, t1.mtime));
}

TEST_F(TmpfsTimes, TruncateSetsMtimeOnlyWhenTheSizeChanges) {
    make("f");
    write("f", 0, "0123456789");
    const Times t0 = before("f");
    SetAttr same;
    same.size = 10;
    setattr("f", same);
    EXPECT_EQ(ts(times("f").mtime), ts(t0.mtime));
    EXPECT_TRUE(later(times("f").ctime, t0.ctime));
    const Times t1 = before("f");
    SetAttr shrink;
    shrink.size = 3;
    setattr("f", shrink);
    EXPECT_TRUE(later(times("f").mtime, t1.mtime));
    EXPECT_TRUE(later(times("f").ctime, t1.ctime));
}

}  // namespace
}  // namespace uk::tmpfs::test
