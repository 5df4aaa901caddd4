// chflags(2) flags on FFS through the VFS: NetBSD's sys/stat.h values, kept in di_flags as they
// are, survive a remount and read back from the raw inode; and NetBSD ufs' rules for them
// (ufs_setattr, ufs_remove, ufs_rmdir, ufs_rename, ufs_link, ufs_open and genfs_can_chflags):
// an immutable node refuses every change, an append-only one every change but an appending
// write, system flags are root's, only the owner or root changes flags, and a snapshot's flag
// never changes. Every test ends with our checker's verdict on the image. UFS1 and UFS2, both
// byte orders, images made by makefs and by our newfs.
#include <fcntl.h>

#include <map>

#include <ukfs/netbsd.h>

#include "rw_support.hpp"

namespace uk::ffs::test {
namespace {

// NetBSD's sys/stat.h, spelled out: the C API's names and the driver's must be these bits.
constexpr std::uint32_t nb_uf_nodump = 0x00000001;
constexpr std::uint32_t nb_uf_immutable = 0x00000002;
constexpr std::uint32_t nb_uf_append = 0x00000004;
constexpr std::uint32_t nb_uf_opaque = 0x00000008;
constexpr std::uint32_t nb_sf_archived = 0x00010000;
constexpr std::uint32_t nb_sf_immutable = 0x00020000;
constexpr std::uint32_t nb_sf_append = 0x00040000;
constexpr std::uint32_t nb_sf_snapshot = 0x00200000;
constexpr std::uint32_t nb_sf_snapinval = 0x00800000;
static_assert(UF_NODUMP == nb_uf_nodump && UF_IMMUTABLE == nb_uf_immutable &&
              UF_APPEND == nb_uf_append && UF_OPAQUE == nb_uf_opaque &&
              SF_ARCHIVED == nb_sf_archived && SF_IMMUTABLE == nb_sf_immutable &&
              SF_APPEND == nb_sf_append && SF_SNAPSHOT == nb_sf_snapshot &&
              SF_SNAPINVAL == nb_sf_snapinval);

template <class T>
::testing::AssertionResult fails_with(const Result<T>& r, int errnum) {
    if (!r && r.error().errnum() == errnum)
        return ::testing::AssertionSuccess();
    if (r)
        return ::testing::AssertionFailure() << "succeeded";
    return ::testing::AssertionFailure() << r.error().describe();
}

template <class T>
::testing::AssertionResult perm(const Result<T>& r) {
    return fails_with(r, EPERM);
}

class FfsFlags : public RwImageTest {
protected:
    void SetUp() override {
        RwImageTest::SetUp();
        if (!IsSkipped() && !HasFatalFailure())
            mount(true);
    }

    void mount(bool writable) {
        auto m = mount_image(m_img, std::size_t{8} << 20, writable);
        ASSERT_TRUE(m) << m.error().describe();
        m_m = std::move(*m);
    }
    void unmount() {
        ASSERT_TRUE(m_m->unmount(false));
        m_m.reset();
    }
    vfs::Mount& m() { return *m_m; }

    void put(const std::string& path, std::size_t size, std::uint32_t seed) {
        ASSERT_TRUE(m().create(path, 0644, true)) << path;
        auto n = m().write(path, 0, pattern(size, seed));
        ASSERT_TRUE(n) << path << ": " << n.error().describe();
    }
    std::vector<std::byte> contents(const std::string& path) {
        std::vector<std::byte> b(1 << 16);
        auto n = m().read(path, 0, b);
        EXPECT_TRUE(n) << path << ": " << n.error().describe();
        b.resize(n ? *n : 0);
        return b;
    }
    vfs::Attr attr(const std::string& path, vfs::Follow follow = vfs::Follow::no) {
        auto a = m().stat(path, follow);
        EXPECT_TRUE(a) << path << ": " << a.error().describe();
        return a ? *a : vfs::Attr{};
    }
    std::uint32_t flags(const std::string& path) { return attr(path).flags; }
    bool exists(const std::string& path) { return bool(m().stat(path, vfs::Follow::no)); }
    void chflags(const std::string& path, std::uint32_t f, vfs::Follow follow = vfs::Follow::no) {
        auto r = m().chflags(path, f, follow);
        ASSERT_TRUE(r) << path << ": " << r.error().describe();
    }
    static vfs::Cred user(std::uint32_t uid) { return vfs::Cred{uid, uid, {}}; }

    std::unique_ptr<vfs::Mount> m_m;
};

// Every settable flag, alone and together, on files, a directory, a FIFO and a symlink: the
// same bits read back after a remount, and the raw inode's di_flags holds them.
TEST_P(FfsFlags, SurviveRemountAsNetbsdBits) {
    struct Case {
        std::string path;
        vfs::VType type;
        std::uint32_t flags;
    };
    const std::uint32_t all = nb_uf_nodump | nb_uf_immutable | nb_uf_append | nb_uf_opaque |
                              nb_sf_archived | nb_sf_immutable | nb_sf_append;
    const std::vector<Case> cases = {
        {"/nodump", vfs::VType::reg, nb_uf_nodump},
        {"/uimmutable", vfs::VType::reg, nb_uf_immutable},
        {"/uappend", vfs::VType::reg, nb_uf_append},
        {"/opaque", vfs::VType::dir, nb_uf_opaque},
        {"/archived", vfs::VType::reg, nb_sf_archived},
        {"/simmutable", vfs::VType::reg, nb_sf_immutable},
        {"/sappend", vfs::VType::reg, nb_sf_append},
        {"/all", vfs::VType::reg, all},
        {"/dir_all", vfs::VType::dir, all},
        {"/fifo", vfs::VType::fifo, nb_uf_nodump | nb_sf_archived},
        {"/link", vfs::VType::lnk, nb_uf_nodump | nb_sf_append},  // lchflags
        {"/none", vfs::VType::reg, 0},
    };
    for (const Case& c : cases) {
        switch (c.type) {
        case vfs::VType::dir: ASSERT_TRUE(m().mkdir(c.path, 0755)); break;
        case vfs::VType::fifo: ASSERT_TRUE(m().mknod(c.path, S_IFIFO | 0644, 0)); break;
        case vfs::VType::lnk: ASSERT_TRUE(m().symlink("nodump", c.path)); break;
        default: put(c.path, 700, 1);
        }
        chflags(c.path, c.flags);
        EXPECT_EQ(flags(c.path), c.flags) << c.path;
    }
    EXPECT_EQ(flags("/nodump"), nb_uf_nodump) << "lchflags went through the link";
    std::map<std::string, std::uint64_t> inos;
    for (const Case& c : cases)
        inos[c.path] = attr(c.path).ino;
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
    {
        OnDisk disk(m_img);
        for (const Case& c : cases)
            EXPECT_EQ(disk.flags(inos[c.path]), c.flags) << c.path << ": di_flags";
    }
    mount(false);
    for (const Case& c : cases) {
        EXPECT_EQ(flags(c.path), c.flags) << c.path;
        EXPECT_EQ(attr(c.path).type, c.type) << c.path;
    }
    unmount();

    // Cleared, they stay cleared.
    mount(true);
    for (const Case& c : cases)
        chflags(c.path, 0);
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
    OnDisk disk(m_img);
    for (const Case& c : cases)
        EXPECT_EQ(disk.flags(inos[c.path]), 0u) << c.path << ": di_flags";
}

// An immutable file (UF_IMMUTABLE or SF_IMMUTABLE) refuses with EPERM every write, truncate,
// unlink, rename (as source or as the name replaced), link, chmod, chown and utimes, even by
// root, and none of them changes anything; it reads. An immutable directory takes no entry
// and loses none. Once cleared, everything works again.
TEST_P(FfsFlags, ImmutableRefusesEveryChange) {
    for (const std::uint32_t flag : {nb_uf_immutable, nb_sf_immutable}) {
        SCOPED_TRACE(fmt::format("flag {:#x}", flag));
        put("/f", 3000, flag);
        put("/other", 10, 2);
        ASSERT_TRUE(m().mkdir("/d", 0755));
        put("/d/x", 10, 3);
        ASSERT_TRUE(m().mkdir("/e", 0755));
        chflags("/f", flag);
        chflags("/d", flag);
        chflags("/e", flag);
        const vfs::Attr before = attr("/f");
        const vfs::Attr dir_before = attr("/d");
        const auto data = pattern(100, 9);
        const timespec t{1'000'000'000, 0};

        EXPECT_TRUE(perm(m().write("/f", 0, data)));
        EXPECT_TRUE(perm(m().write("/f", before.size, data)));  // not even appending
        EXPECT_TRUE(perm(m().open("/f", O_WRONLY)));
        EXPECT_TRUE(perm(m().open("/f", O_WRONLY | O_APPEND)));
        EXPECT_TRUE(perm(m().open("/f", O_RDWR | O_TRUNC)));
        EXPECT_TRUE(perm(m().truncate("/f", 10)));
        EXPECT_TRUE(perm(m().truncate("/f", 10000)));
        EXPECT_TRUE(perm(m().remove("/f")));
        EXPECT_TRUE(perm(m().rename("/f", "/g")));
        EXPECT_TRUE(perm(m().rename("/other", "/f")));
        EXPECT_TRUE(perm(m().link("/f", "/f2")));
        EXPECT_TRUE(perm(m().chmod("/f", 0600, vfs::Follow::yes)));
        EXPECT_TRUE(perm(m().chown("/f", 5, 6, vfs::Follow::yes)));
        EXPECT_TRUE(perm(m().utimes("/f", t, t, vfs::Follow::yes)));
        EXPECT_TRUE(perm(m().utimes("/f", std::nullopt, std::nullopt, vfs::Follow::yes)));

        EXPECT_TRUE(perm(m().create("/d/y", 0644, true)));
        EXPECT_TRUE(perm(m().mkdir("/d/y", 0755)));
        EXPECT_TRUE(perm(m().symlink("x", "/d/y")));
        EXPECT_TRUE(perm(m().link("/other", "/d/y")));
        EXPECT_TRUE(perm(m().remove("/d/x")));
        EXPECT_TRUE(perm(m().rename("/d/x", "/x")));
        EXPECT_TRUE(perm(m().rename("/other", "/d/y")));
        EXPECT_TRUE(perm(m().rmdir("/e")));

        // Nothing changed.
        const vfs::Attr after = attr("/f");
        EXPECT_EQ(after.size, before.size);
        EXPECT_EQ(after.mode, before.mode);
        EXPECT_EQ(after.uid, before.uid);
        EXPECT_EQ(after.gid, before.gid);
        EXPECT_EQ(after.nlink, 1u);
        EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec);
        EXPECT_EQ(after.mtime.tv_nsec, before.mtime.tv_nsec);
        EXPECT_EQ(after.ctime.tv_sec, before.ctime.tv_sec);
        EXPECT_EQ(after.ctime.tv_nsec, before.ctime.tv_nsec);
        EXPECT_EQ(after.flags, flag);
        EXPECT_EQ(contents("/f"), pattern(3000, flag));
        EXPECT_EQ(contents("/other"), pattern(10, 2));
        EXPECT_FALSE(exists("/g"));
        EXPECT_FALSE(exists("/f2"));
        EXPECT_FALSE(exists("/d/y"));
        EXPECT_FALSE(exists("/x"));
        EXPECT_TRUE(exists("/e"));
        EXPECT_EQ(attr("/d").mtime.tv_nsec, dir_before.mtime.tv_nsec);
        EXPECT_EQ(attr("/d").nlink, dir_before.nlink);

        // Cleared: every change works.
        chflags("/f", 0);
        chflags("/d", 0);
        chflags("/e", 0);
        EXPECT_TRUE(m().write("/f", 0, data));
        EXPECT_TRUE(m().truncate("/f", 10));
        EXPECT_TRUE(m().chmod("/f", 0600, vfs::Follow::yes));
        EXPECT_TRUE(m().link("/f", "/f2"));
        EXPECT_TRUE(m().rename("/f", "/g"));
        EXPECT_TRUE(m().create("/d/y", 0644, true));
        EXPECT_TRUE(m().remove("/d/x"));
        EXPECT_TRUE(m().rmdir("/e"));
        EXPECT_TRUE(m().remove("/g"));
        EXPECT_TRUE(m().remove("/f2"));
        EXPECT_TRUE(m().remove("/d/y"));
        EXPECT_TRUE(m().rmdir("/d"));
        EXPECT_TRUE(m().remove("/other"));
    }
    put("/kept", 100, 4);
    chflags("/kept", nb_sf_immutable);
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
    mount(true);  // still immutable after a remount
    EXPECT_TRUE(perm(m().write("/kept", 0, pattern(1, 1))));
    EXPECT_TRUE(perm(m().remove("/kept")));
    EXPECT_EQ(contents("/kept"), pattern(100, 4));
}

// An append-only file (UF_APPEND or SF_APPEND) takes writes at its end only: through a path
// at the current size, or through a descriptor opened O_APPEND (open without O_APPEND, or with
// O_TRUNC, is EPERM). It refuses truncate, unlink, rename, link, chmod, chown and utimes. An
// append-only directory takes new entries but loses none.
TEST_P(FfsFlags, AppendOnlyOnlyAppends) {
    for (const std::uint32_t flag : {nb_uf_append, nb_sf_append}) {
        SCOPED_TRACE(fmt::format("flag {:#x}", flag));
        put("/f", 1000, 5);
        put("/other", 10, 2);
        ASSERT_TRUE(m().mkdir("/d", 0755));
        put("/d/x", 10, 3);
        ASSERT_TRUE(m().mkdir("/d/sub", 0755));
        chflags("/f", flag);
        chflags("/d", flag);
        const auto a = pattern(100, 6);
        const auto b = pattern(200, 7);
        const timespec t{1'000'000'000, 0};

        EXPECT_TRUE(perm(m().write("/f", 0, a)));
        EXPECT_TRUE(perm(m().write("/f", 500, a)));
        EXPECT_TRUE(perm(m().write("/f", 2000, a)));  // past the end is not appending either
        auto at_end = m().write("/f", 1000, a);
        ASSERT_TRUE(at_end) << at_end.error().describe();
        EXPECT_EQ(*at_end, a.size());
        EXPECT_TRUE(perm(m().open("/f", O_WRONLY)));
        EXPECT_TRUE(perm(m().open("/f", O_RDWR)));
        EXPECT_TRUE(perm(m().open("/f", O_WRONLY | O_APPEND | O_TRUNC)));
        auto fd = m().open("/f", O_WRONLY | O_APPEND);
        ASSERT_TRUE(fd) << fd.error().describe();
        EXPECT_TRUE(m().write_fd(*fd, 0, b, false));  // O_APPEND: lands at the end
        EXPECT_TRUE(perm(m().truncate_fd(*fd, 10)));
        ASSERT_TRUE(m().close(*fd));
        EXPECT_TRUE(perm(m().truncate("/f", 10)));
        EXPECT_TRUE(perm(m().truncate("/f", 5000)));
        EXPECT_TRUE(perm(m().remove("/f")));
        EXPECT_TRUE(perm(m().rename("/f", "/g")));
        EXPECT_TRUE(perm(m().rename("/other", "/f")));
        EXPECT_TRUE(perm(m().link("/f", "/f2")));
        EXPECT_TRUE(perm(m().chmod("/f", 0600, vfs::Follow::yes)));
        EXPECT_TRUE(perm(m().chown("/f", 5, 6, vfs::Follow::yes)));
        EXPECT_TRUE(perm(m().utimes("/f", t, t, vfs::Follow::yes)));

        std::vector<std::byte> want = pattern(1000, 5);
        want.insert(want.end(), a.begin(), a.end());
        want.insert(want.end(), b.begin(), b.end());
        EXPECT_EQ(contents("/f"), want);
        EXPECT_EQ(attr("/f").mode, 0644u);
        EXPECT_FALSE(exists("/g"));
        EXPECT_FALSE(exists("/f2"));
        EXPECT_EQ(contents("/other"), pattern(10, 2));

        // The directory: entries come, none go.
        EXPECT_TRUE(m().create("/d/new", 0644, true));
        EXPECT_TRUE(m().mkdir("/d/newdir", 0755));
        EXPECT_TRUE(m().rename("/other", "/d/moved_in"));
        EXPECT_TRUE(perm(m().remove("/d/x")));
        EXPECT_TRUE(perm(m().rmdir("/d/sub")));
        EXPECT_TRUE(perm(m().rename("/d/x", "/x")));
        EXPECT_TRUE(perm(m().rename("/d/new", "/d/renamed")));
        EXPECT_TRUE(exists("/d/x"));
        EXPECT_TRUE(exists("/d/sub"));
        EXPECT_TRUE(exists("/d/new"));

        chflags("/f", 0);
        chflags("/d", 0);
        EXPECT_TRUE(m().truncate("/f", 10));
        EXPECT_TRUE(m().remove("/f"));
        for (const char* p : {"/d/x", "/d/new", "/d/moved_in"})
            EXPECT_TRUE(m().remove(p)) << p;
        EXPECT_TRUE(m().rmdir("/d/sub"));
        EXPECT_TRUE(m().rmdir("/d/newdir"));
        EXPECT_TRUE(m().rmdir("/d"));
    }
    put("/log", 100, 8);
    chflags("/log", nb_sf_append);
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
    mount(true);  // still append-only after a remount
    EXPECT_TRUE(perm(m().write("/log", 0, pattern(1, 1))));
    EXPECT_TRUE(m().write("/log", 100, pattern(50, 9)));
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
}

// Who may change flags (genfs_can_chflags, ufs_setattr): the owner or root only; a system
// flag (SF_*) only root, set or cleared; an owner who is not root changes the user flags of a
// file whose system flags stay as they are, but no flag of a device.
TEST_P(FfsFlags, SystemFlagsAreRootsOwnersChangeUserFlags) {
    put("/f", 100, 1);
    ASSERT_TRUE(m().chown("/f", 1000, 1000, vfs::Follow::yes));
    ASSERT_TRUE(m().mknod("/dev", S_IFCHR | 0600, makedev(1, 3)));
    ASSERT_TRUE(m().chown("/dev", 1000, 1000, vfs::Follow::yes));

    m().set_cred(user(1000));
    chflags("/f", nb_uf_nodump);
    EXPECT_EQ(flags("/f"), nb_uf_nodump);
    for (const std::uint32_t sf : {nb_sf_archived, nb_sf_immutable, nb_sf_append}) {
        EXPECT_TRUE(perm(m().chflags("/f", nb_uf_nodump | sf, vfs::Follow::no))) << sf;
        EXPECT_EQ(flags("/f"), nb_uf_nodump);
    }
    EXPECT_TRUE(perm(m().chflags("/dev", nb_uf_nodump, vfs::Follow::no)));
    EXPECT_EQ(flags("/dev"), 0u);

    m().set_cred(user(2000));  // neither owner nor root
    EXPECT_TRUE(perm(m().chflags("/f", 0, vfs::Follow::no)));
    EXPECT_TRUE(perm(m().chflags("/f", nb_uf_nodump | nb_uf_append, vfs::Follow::no)));
    EXPECT_EQ(flags("/f"), nb_uf_nodump);

    m().set_cred(vfs::Cred{});
    chflags("/f", nb_uf_nodump | nb_sf_append);
    chflags("/dev", nb_uf_nodump);
    EXPECT_EQ(flags("/dev"), nb_uf_nodump);

    m().set_cred(user(1000));
    EXPECT_TRUE(perm(m().chflags("/f", nb_uf_nodump, vfs::Follow::no)));  // clears SF_APPEND
    EXPECT_TRUE(perm(m().chflags("/f", 0, vfs::Follow::no)));
    EXPECT_EQ(flags("/f"), nb_uf_nodump | nb_sf_append);
    chflags("/f", nb_sf_append);  // the user flag goes, the system flag stays
    EXPECT_EQ(flags("/f"), nb_sf_append);
    chflags("/f", nb_sf_append | nb_uf_immutable);
    EXPECT_EQ(flags("/f"), nb_sf_append | nb_uf_immutable);
    EXPECT_TRUE(perm(m().write("/f", 100, pattern(1, 1))));  // immutable now, for its owner too
    chflags("/f", nb_sf_append);                             // the owner lifts its own UF_IMMUTABLE
    EXPECT_TRUE(m().write("/f", 100, pattern(1, 1)));

    m().set_cred(vfs::Cred{});
    chflags("/f", nb_uf_opaque);  // root clears a system flag
    EXPECT_EQ(flags("/f"), nb_uf_opaque);
    const std::uint64_t ino = attr("/f").ino, dev_ino = attr("/dev").ino;
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
    OnDisk disk(m_img);
    EXPECT_EQ(disk.flags(ino), nb_uf_opaque);
    EXPECT_EQ(disk.flags(dev_ino), nb_uf_nodump);
}

// A snapshot's SF_SNAPSHOT can be neither set nor cleared, by root either (ufs_setattr): a
// chflags that would change it is EPERM and changes nothing; one that keeps it works.
TEST_P(FfsFlags, SnapshotFlagNeverChanges) {
    put("/snap", 100, 1);
    put("/plain", 100, 2);
    const std::uint64_t ino = attr("/snap").ino;
    unmount();
    {
        // Mark /snap a snapshot on disk, as ffs_snapshot would (the checker stays clean).
        OnDisk disk(m_img);
        const std::uint64_t off = disk.inode_offset(ino) + (disk.g().ufs2 ? 88 : 100);
        Raw32 raw;
        disk.g().order.set(raw, nb_sf_snapshot);
        auto dev = io::ImageFile::open(m_img.string(), false);
        ASSERT_TRUE(dev);
        ASSERT_TRUE((*dev)->write_at(off, std::as_bytes(std::span(&raw, 1))));
    }
    mount(true);
    EXPECT_EQ(flags("/snap"), nb_sf_snapshot);
    EXPECT_TRUE(perm(m().chflags("/snap", 0, vfs::Follow::no)));
    EXPECT_TRUE(perm(m().chflags("/snap", nb_uf_nodump, vfs::Follow::no)));
    EXPECT_TRUE(perm(m().chflags("/snap", nb_sf_snapshot | nb_sf_snapinval, vfs::Follow::no)));
    EXPECT_EQ(flags("/snap"), nb_sf_snapshot);
    chflags("/snap", nb_sf_snapshot | nb_uf_nodump);
    EXPECT_EQ(flags("/snap"), nb_sf_snapshot | nb_uf_nodump);
    EXPECT_TRUE(perm(m().chflags("/plain", nb_sf_snapshot, vfs::Follow::no)));
    EXPECT_TRUE(perm(m().chflags("/plain", nb_sf_snapinval, vfs::Follow::no)));
    EXPECT_EQ(flags("/plain"), 0u);
    unmount();
    EXPECT_TRUE(checker_clean(m_img));
    OnDisk disk(m_img);
    EXPECT_EQ(disk.flags(ino), nb_sf_snapshot | nb_uf_nodump);
}

INSTANTIATE_TEST_SUITE_P(Images, FfsFlags, ::testing::ValuesIn(rw_images), rw_image_name);

}  // namespace
}  // namespace uk::ffs::test
