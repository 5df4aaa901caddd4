// tmpfs chflags(2) flags: immutable and append-only files and directories (NetBSD rules).
#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

class TmpfsFlags : public TmpfsTest, public ::testing::WithParamInterface<std::uint32_t> {
protected:
    void set_flags(std::string_view path, std::uint32_t flags) {
        SetAttr c;
        c.flags = flags;
        setattr(path, c);
    }
};

// Each of UF_IMMUTABLE and SF_IMMUTABLE.
class TmpfsImmutable : public TmpfsFlags {};
// Each of UF_APPEND and SF_APPEND.
class TmpfsAppend : public TmpfsFlags {};

TEST_P(TmpfsImmutable, FileRefusesEveryChangeButFlags) {
    make("f");
    write("f", 0, "frozen");
    mkdir("d");
    set_flags("f", GetParam());
    EXPECT_EQ(stat("f").flags, GetParam());
    VnodePtr f = get("f");
    EXPECT_EQ(err(f->write(0, bytes("x"))), EPERM);
    EXPECT_EQ(err(f->write(6, bytes("x"))), EPERM);
    SetAttr c;
    c.mode = 0600;
    EXPECT_EQ(err(f->setattr(c)), EPERM);
    c = {};
    c.size = 0;
    EXPECT_EQ(err(f->setattr(c)), EPERM);
    c = {};
    c.mtime = timespec{1, 0};
    EXPECT_EQ(err(f->setattr(c)), EPERM);
    EXPECT_EQ(err(try_remove("f")), EPERM);
    EXPECT_EQ(err(try_rename("f", "g")), EPERM);
    EXPECT_EQ(err(try_link("f", "d/g")), EPERM);
    make("other");
    EXPECT_EQ(err(try_rename("other", "f")), EPERM);  // nor replaced
    EXPECT_EQ(read("f"), "frozen");
    EXPECT_EQ(stat("f").mode, 0644u);
    // Clearing the flag lets everything through again.
    set_flags("f", 0);
    write("f", 0, "F");
    must(try_remove("f"));
}

TEST_P(TmpfsImmutable, DirectoryTakesNoNewEntriesAndLosesNone) {
    mkdir("d");
    make("d/f");
    make("outside");
    set_flags("d", GetParam());
    EXPECT_EQ(err(try_make("d/g")), EPERM);
    EXPECT_EQ(err(try_make("d/sub", VType::dir)), EPERM);
    EXPECT_EQ(err(get("d")->symlink("l", "x", NewNode{VType::lnk, 0777, 0, 0, 0})), EPERM);
    EXPECT_EQ(err(try_link("outside", "d/o")), EPERM);
    EXPECT_EQ(err(try_remove("d/f")), EPERM);
    EXPECT_EQ(err(try_rename("d/f", "moved")), EPERM);
    EXPECT_EQ(err(try_rename("outside", "d/o")), EPERM);
    // The files inside are not immutable themselves.
    write("d/f", 0, "ok");
    EXPECT_EQ(read("d/f"), "ok");
}

TEST_P(TmpfsAppend, FileAcceptsOnlyWritesAtTheEnd) {
    make("f");
    write("f", 0, "log:");
    set_flags("f", GetParam());
    VnodePtr f = get("f");
    EXPECT_EQ(must(f->write(4, bytes("one"))), 3u);
    EXPECT_EQ(err(f->write(0, bytes("X"))), EPERM);
    EXPECT_EQ(err(f->write(100, bytes("X"))), EPERM);
    SetAttr c;
    c.size = 2;
    EXPECT_EQ(err(f->setattr(c)), EPERM);
    c.size = 100;
    EXPECT_EQ(err(f->setattr(c)), EPERM);
    EXPECT_EQ(err(try_remove("f")), EPERM);
    EXPECT_EQ(err(try_rename("f", "g")), EPERM);
    EXPECT_EQ(read("f"), "log:one");
}

TEST_P(TmpfsAppend, DirectoryTakesEntriesButLosesNone) {
    mkdir("d");
    make("d/old");
    set_flags("d", GetParam());
    make("d/new");
    EXPECT_EQ(err(try_remove("d/old")), EPERM);
    EXPECT_EQ(err(try_rename("d/old", "d/renamed")), EPERM);
    make("outside");
    EXPECT_EQ(err(try_rename("outside", "d/new")), EPERM);  // would drop d/new
    must(try_rename("outside", "d/moved_in"));
    EXPECT_EQ(stat("d").flags, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Flags, TmpfsImmutable,
                         ::testing::Values(std::uint32_t{UF_IMMUTABLE},
                                           std::uint32_t{SF_IMMUTABLE}));
INSTANTIATE_TEST_SUITE_P(Flags, TmpfsAppend,
                         ::testing::Values(std::uint32_t{UF_APPEND}, std::uint32_t{SF_APPEND}));

TEST_F(TmpfsTest, OtherFlagsAreStoredAndRestrictNothing) {
    make("f");
    SetAttr c;
    c.flags = UF_NODUMP | SF_ARCHIVED;
    setattr("f", c);
    EXPECT_EQ(stat("f").flags, static_cast<std::uint32_t>(UF_NODUMP | SF_ARCHIVED));
    write("f", 0, "fine");
    must(try_remove("f"));
}

}  // namespace
}  // namespace uk::tmpfs::test
