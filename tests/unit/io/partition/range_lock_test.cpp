// Byte-range locks: within one process (OFD locks conflict between two opens of one image),
// across processes (fork), shared/exclusive rules, release, and the holder's pid in the message
// as libukfs prints it ("held by pid N").
#include "io/partition/range_lock.hpp"

#include <cerrno>
#include <memory>
#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "part_test_support.hpp"

using namespace uk;
using namespace uk::io;
using part_test::TempImage;

namespace {

constexpr std::uint64_t image_size = 4 << 20;

std::shared_ptr<BlockDevice> open_image(const std::string& path, bool ro = false) {
    auto dev = ImageFile::open(path, ro);
    EXPECT_TRUE(dev) << dev.error().describe();
    return std::shared_ptr<BlockDevice>(std::move(*dev));
}

std::shared_ptr<BlockDevice> slice(std::shared_ptr<BlockDevice> whole, std::uint64_t off,
                                   std::uint64_t len) {
    auto s = SliceDevice::make(std::move(whole), off, len);
    EXPECT_TRUE(s);
    return std::shared_ptr<BlockDevice>(std::move(*s));
}

void expect_conflict(const Result<RangeLock>& r, pid_t holder) {
    ASSERT_FALSE(r) << "the lock was granted";
    EXPECT_TRUE(r.error().errnum() == EAGAIN || r.error().errnum() == EACCES)
        << r.error().describe();
    EXPECT_NE(r.error().message().find("held by pid " + std::to_string(holder)),
              std::string::npos)
        << r.error().message();
}

// A pipe whose ends close themselves.
struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() { EXPECT_EQ(pipe(fd), 0); }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0)
                close(f);
    }
};

// In a forked child: drop every inherited descriptor except `keep` (moved to 3, returned), so
// that the child shares no open file description, and no lock, with the parent.
int child_isolate(int keep) {
    if (dup2(keep, 3) < 0)
        _exit(90);
    close_range(4, ~0U, 0);
    return 3;
}

}  // namespace

TEST(RangeLock, MemoryDeviceNeedsNoLock) {
    MemoryDevice mem(4096);
    auto lock = RangeLock::acquire(mem, true);
    ASSERT_TRUE(lock);
    EXPECT_FALSE(lock->held());
    EXPECT_TRUE(lock->release());
}

TEST(RangeLock, WriteWriteConflictsInOneProcess) {
    TempImage img(image_size);
    auto a = open_image(img.path());
    auto b = open_image(img.path());
    auto la = RangeLock::acquire(*a, true);
    ASSERT_TRUE(la) << la.error().describe();
    EXPECT_TRUE(la->held());
    EXPECT_EQ(la->range(), (Extent{0, image_size}));
    auto lb = RangeLock::acquire(*b, true);
    expect_conflict(lb, getpid());
    EXPECT_NE(lb.error().message().find(img.path() + ": cannot lock bytes 0 to 4194303 of the "
                                                     "image for writing"),
              std::string::npos)
        << lb.error().message();
}

TEST(RangeLock, ReadReadShares) {
    TempImage img(image_size);
    auto a = open_image(img.path(), true);
    auto b = open_image(img.path(), true);
    auto la = RangeLock::acquire(*a, false);
    auto lb = RangeLock::acquire(*b, false);
    ASSERT_TRUE(la) << la.error().describe();
    ASSERT_TRUE(lb) << lb.error().describe();
    EXPECT_TRUE(la->held() && lb->held());
}

TEST(RangeLock, ReadWriteConflictsBothWays) {
    TempImage img(image_size);
    auto a = open_image(img.path());
    auto b = open_image(img.path());
    {
        auto reader = RangeLock::acquire(*a, false);
        ASSERT_TRUE(reader);
        expect_conflict(RangeLock::acquire(*b, true), getpid());
    }
    auto writer = RangeLock::acquire(*a, true);
    ASSERT_TRUE(writer);
    auto r = RangeLock::acquire(*b, false);
    expect_conflict(r, getpid());
    EXPECT_NE(r.error().message().find("for reading"), std::string::npos);
}

TEST(RangeLock, ReleaseAndDestructionFree) {
    TempImage img(image_size);
    auto a = open_image(img.path());
    auto b = open_image(img.path());
    auto la = RangeLock::acquire(*a, true);
    ASSERT_TRUE(la);
    ASSERT_TRUE(la->release());
    EXPECT_FALSE(la->held());
    EXPECT_TRUE(la->release());  // twice is harmless
    {
        auto lb = RangeLock::acquire(*b, true);
        ASSERT_TRUE(lb) << lb.error().describe();
        RangeLock moved = std::move(*lb);  // the moved-from lock must not unlock
        EXPECT_TRUE(moved.held());
        expect_conflict(RangeLock::acquire(*a, true), getpid());
    }
    EXPECT_TRUE(RangeLock::acquire(*a, true));
}

TEST(RangeLock, DisjointPartitionsDoNotConflict) {
    TempImage img(image_size);
    auto first = slice(open_image(img.path()), 0, 1 << 20);
    auto second = slice(open_image(img.path()), 1 << 20, 1 << 20);
    auto overlapping = slice(open_image(img.path()), (1 << 20) - 512, 1024);
    auto l1 = RangeLock::acquire(*first, true);
    auto l2 = RangeLock::acquire(*second, true);
    ASSERT_TRUE(l1) << l1.error().describe();
    ASSERT_TRUE(l2) << l2.error().describe();
    EXPECT_EQ(l2->range(), (Extent{1 << 20, 1 << 20}));
    expect_conflict(RangeLock::acquire(*overlapping, false), getpid());
}

TEST(RangeLock, SurvivesTheDeviceClosing) {
    TempImage img(image_size);
    auto b = open_image(img.path());
    RangeLock held;
    {
        auto a = open_image(img.path());
        auto la = RangeLock::acquire(*a, true);
        ASSERT_TRUE(la);
        held = std::move(*la);
    }  // a's descriptor is closed here; the lock keeps its own
    expect_conflict(RangeLock::acquire(*b, true), getpid());
    ASSERT_TRUE(held.release());
    EXPECT_TRUE(RangeLock::acquire(*b, true));
}

TEST(RangeLock, ExclusiveOnAReadOnlyImage) {
    TempImage img(image_size);
    auto ro = open_image(img.path(), true);
    auto r = RangeLock::acquire(*ro, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), EBADF);
    EXPECT_NE(r.error().message().find("open read-only"), std::string::npos);
}

TEST(RangeLock, ChildProcessSeesTheParentsLock) {
    TempImage img(image_size);
    auto a = open_image(img.path());
    auto la = RangeLock::acquire(*a, true);
    ASSERT_TRUE(la);
    Pipe report;
    const pid_t parent = getpid();
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const int out = child_isolate(report.fd[1]);
        auto dev = ImageFile::open(img.path(), true);
        if (!dev)
            _exit(91);
        auto r = RangeLock::acquire(**dev, false);
        const std::string msg = r ? std::string("granted") : r.error().message();
        const int err = r ? 0 : r.error().errnum();
        if (write(out, &err, sizeof err) != sizeof err ||
            write(out, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size()))
            _exit(92);
        _exit(0);
    }
    close(report.fd[1]);
    report.fd[1] = -1;
    int err = 0;
    ASSERT_EQ(read(report.fd[0], &err, sizeof err), static_cast<ssize_t>(sizeof err));
    std::string msg;
    char buf[512];
    for (ssize_t n; (n = read(report.fd[0], buf, sizeof buf)) > 0;)
        msg.append(buf, static_cast<std::size_t>(n));
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_TRUE(err == EAGAIN || err == EACCES) << err << " " << msg;
    EXPECT_NE(msg.find("held by pid " + std::to_string(parent)), std::string::npos) << msg;
}

TEST(RangeLock, ParentSeesTheChildsLock) {
    TempImage img(image_size);
    Pipe ready, done;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Keep the two pipe ends this child uses at 3 and 4.
        if (dup2(ready.fd[1], 3) < 0 || dup2(done.fd[0], 4) < 0)
            _exit(90);
        close_range(5, ~0U, 0);
        auto dev = ImageFile::open(img.path(), false);
        if (!dev)
            _exit(91);
        auto lock = RangeLock::acquire(**dev, true);
        const char ok = lock ? 'y' : 'n';
        if (write(3, &ok, 1) != 1)
            _exit(92);
        char bye = 0;
        if (read(4, &bye, 1) < 0)  // hold the lock until the parent has looked
            _exit(93);
        _exit(0);
    }
    close(ready.fd[1]);
    ready.fd[1] = -1;
    close(done.fd[0]);
    done.fd[0] = -1;
    char ok = 0;
    ASSERT_EQ(read(ready.fd[0], &ok, 1), 1);
    ASSERT_EQ(ok, 'y');
    auto mine = open_image(img.path());
    expect_conflict(RangeLock::acquire(*mine, true), child);
    expect_conflict(RangeLock::acquire(*mine, false), child);
    const char bye = 'x';
    ASSERT_EQ(write(done.fd[1], &bye, 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    // The child's exit closed its description: the range is free.
    EXPECT_TRUE(RangeLock::acquire(*mine, true));
}

TEST(RangeLock, ClassicPosixLockHolderIsNamed) {
    // Another program locking the NetBSD way (F_SETLK) conflicts with our OFD locks, and
    // F_OFD_GETLK reports its pid directly.
    TempImage img(image_size);
    Pipe ready, done;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (dup2(ready.fd[1], 3) < 0 || dup2(done.fd[0], 4) < 0)
            _exit(90);
        close_range(5, ~0U, 0);
        const int fd = open(img.path().c_str(), O_RDWR);
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        const char ok = (fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
        if (write(3, &ok, 1) != 1)
            _exit(92);
        char bye = 0;
        if (read(4, &bye, 1) < 0)
            _exit(93);
        _exit(0);
    }
    close(ready.fd[1]);
    ready.fd[1] = -1;
    close(done.fd[0]);
    done.fd[0] = -1;
    char ok = 0;
    ASSERT_EQ(read(ready.fd[0], &ok, 1), 1);
    ASSERT_EQ(ok, 'y');
    auto mine = open_image(img.path());
    expect_conflict(RangeLock::acquire(*mine, false), child);
    const char bye = 'x';
    ASSERT_EQ(write(done.fd[1], &bye, 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
}

TEST(RangeLock, FindLockHolderScansFdinfo) {
    TempImage img(image_size);
    auto a = open_image(img.path());
    auto la = RangeLock::acquire(*a, true);
    ASSERT_TRUE(la);
    auto b = open_image(img.path());
    EXPECT_EQ(find_lock_holder(b->fd(), la->range(), true, b->fd()), getpid());
    EXPECT_EQ(find_lock_holder(b->fd(), Extent{0, 0}, true, b->fd()), 0);  // nothing to hold
    ASSERT_TRUE(la->release());
    EXPECT_EQ(find_lock_holder(b->fd(), Extent{0, image_size}, true, b->fd()), 0);  // nobody
}
