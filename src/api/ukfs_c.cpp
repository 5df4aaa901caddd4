// The C API: NetBSD's libukfs functions over the C++ core. Each function is a few lines around
// c_call, which turns a Result into -1/NULL and errno. Where NetBSD's ukfs.c (rev. 1.56) has a
// bug, the comment at the function says what we do instead.
#include <ukfs/ukfs.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "api/c_call.hpp"
#include "api/handle.hpp"
#include "base/time.hpp"

using uk::Error;
using uk::Result;
using uk::api::c_call;
using uk::vfs::Follow;

namespace {

std::span<std::byte> bytes(uint8_t* buf, size_t len) {
    return {reinterpret_cast<std::byte*>(buf), len};
}

Result<const char*> need_path(const char* p) {
    if (p == nullptr)
        return Error::sys(EFAULT);
    return p;
}

template <class F>
int path_call(struct ukfs* fs, const char* path, F&& fn) {
    return c_call<int>([&]() -> Result<void> {
        if (fs == nullptr)
            return Error::sys(EINVAL);
        return fn(*fs->mount, std::string_view(UKFS_TRY(need_path(path))));
    });
}

mode_t process_umask() {
    mode_t mask = umask(0);  // NetBSD's builddirs applies the process umask, read this way
    umask(mask);
    return mask;
}

std::optional<timespec> time_at(const struct timeval* tptr, int i) {
    if (tptr == nullptr)
        return std::nullopt;
    return uk::to_timespec(tptr[i]);
}

}  // namespace

extern "C" {

int _ukfs_init(int version) {
    if (version != UKFS_VERSION) {
        uk::api::set_error(Error::sys(EPROGMISMATCH, "incompatible ukfs version"));
        return -1;
    }
    return 0;
}

struct mount* ukfs_getmp(struct ukfs* fs) {
    // An opaque handle: NetBSD returns its kernel's struct mount; ours is the mount object.
    return fs ? reinterpret_cast<struct mount*>(fs->mount.get()) : nullptr;
}

struct vnode* ukfs_getrvp(struct ukfs* fs) {
    // Declared but never implemented by NetBSD; an opaque handle to the root here.
    return fs ? reinterpret_cast<struct vnode*>(&fs->mount->fs()) : nullptr;
}

void ukfs_setspecific(struct ukfs* fs, void* priv) { fs->specific = priv; }
void* ukfs_getspecific(struct ukfs* fs) { return fs->specific; }

int ukfs_open(struct ukfs* fs, const char* filename, int flags) {
    return c_call<int>([&]() -> Result<int> {
        return fs->mount->open(UKFS_TRY(need_path(filename)), flags, 0644);
    });
}

ssize_t ukfs_read(struct ukfs* fs, const char* filename, off_t off, uint8_t* buf, size_t bufsize) {
    return c_call<ssize_t>([&]() -> Result<std::size_t> {
        if (off < 0)
            return Error::sys(EINVAL);
        return fs->mount->read(UKFS_TRY(need_path(filename)), static_cast<std::uint64_t>(off),
                               bytes(buf, bufsize));
    });
}

ssize_t ukfs_read_fd(struct ukfs* fs, int fd, off_t off, uint8_t* buf, size_t bufsize) {
    return c_call<ssize_t>([&]() -> Result<std::size_t> {
        if (off < 0)
            return Error::sys(EINVAL);
        return fs->mount->read_fd(fd, static_cast<std::uint64_t>(off), bytes(buf, bufsize));
    });
}

ssize_t ukfs_write(struct ukfs* fs, const char* filename, off_t off, uint8_t* buf, size_t bufsize) {
    // NetBSD opens the file O_WRONLY (no O_CREAT), pwrites, and fsyncs when something was
    // written. So do we: the open is what refuses an append-only file (ufs_open: EPERM unless
    // opened O_APPEND), even where the write would be at its end.
    return c_call<ssize_t>([&]() -> Result<std::size_t> {
        if (off < 0)
            return Error::sys(EINVAL);
        uk::vfs::Mount& m = *fs->mount;
        const int fd = UKFS_TRY(m.open(UKFS_TRY(need_path(filename)), O_WRONLY));
        auto n = m.write_fd(fd, static_cast<std::uint64_t>(off), bytes(buf, bufsize), false);
        if (n && *n > 0) {
            if (auto synced = m.sync(); !synced)
                n = synced.error();
        }
        auto closed = m.close(fd);
        if (n && !closed)
            return closed.error();
        return n;
    });
}

ssize_t ukfs_write_fd(struct ukfs* fs, int fd, off_t off, uint8_t* buf, size_t bufsize,
                      int dosync) {
    return c_call<ssize_t>([&]() -> Result<std::size_t> {
        if (off < 0)
            return Error::sys(EINVAL);
        return fs->mount->write_fd(fd, static_cast<std::uint64_t>(off), bytes(buf, bufsize),
                                   dosync != 0 && bufsize > 0);
    });
}

int ukfs_close(struct ukfs* fs, int fd) {
    // NetBSD ignores close's result; we report it (EBADF for a descriptor not open).
    return c_call<int>([&] { return fs->mount->close(fd); });
}

ssize_t ukfs_readlink(struct ukfs* fs, const char* filename, char* linkbuf, size_t buflen) {
    return c_call<ssize_t>([&]() -> Result<std::size_t> {
        std::string target = UKFS_TRY(fs->mount->readlink(UKFS_TRY(need_path(filename))));
        std::size_t n = std::min(target.size(), buflen);
        std::memcpy(linkbuf, target.data(), n);  // not NUL-terminated, as readlink(2)
        return n;
    });
}

int ukfs_create(struct ukfs* fs, const char* filename, mode_t mode) {
    // open(O_WRONLY|O_CREAT) and close, as NetBSD: an existing file is not truncated. (NetBSD
    // returns before its POSTCALL when the open fails, leaking the call's context.)
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.create(p, mode, false);
    });
}

int ukfs_mkdir(struct ukfs* fs, const char* filename, mode_t mode) {
    return path_call(fs, filename,
                     [&](uk::vfs::Mount& m, std::string_view p) { return m.mkdir(p, mode); });
}

int ukfs_mknod(struct ukfs* fs, const char* filename, mode_t mode, dev_t dev) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.mknod(p, mode, dev);
    });
}

int ukfs_mkfifo(struct ukfs* fs, const char* filename, mode_t mode) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.mknod(p, S_IFIFO | (mode & 07777), 0);
    });
}

int ukfs_symlink(struct ukfs* fs, const char* filename, const char* linkname) {
    // NetBSD's argument order: filename is the link's target, linkname the new link.
    return path_call(fs, linkname, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        return m.symlink(UKFS_TRY(need_path(filename)), p);
    });
}

int ukfs_remove(struct ukfs* fs, const char* filename) {
    return path_call(fs, filename,
                     [&](uk::vfs::Mount& m, std::string_view p) { return m.remove(p); });
}

int ukfs_rmdir(struct ukfs* fs, const char* filename) {
    return path_call(fs, filename,
                     [&](uk::vfs::Mount& m, std::string_view p) { return m.rmdir(p); });
}

int ukfs_link(struct ukfs* fs, const char* filename, const char* f_create) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        return m.link(p, UKFS_TRY(need_path(f_create)));
    });
}

int ukfs_rename(struct ukfs* fs, const char* from, const char* to) {
    return path_call(fs, from, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        return m.rename(p, UKFS_TRY(need_path(to)));
    });
}

int ukfs_chdir(struct ukfs* fs, const char* path) {
    return path_call(fs, path,
                     [&](uk::vfs::Mount& m, std::string_view p) { return m.chdir(p); });
}

static int stat_common(struct ukfs* fs, const char* filename, struct stat* st, Follow follow) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        uk::vfs::Attr a = UKFS_TRY(m.stat(p, follow));
        uk::api::attr_to_stat(a, reinterpret_cast<std::uintptr_t>(fs), st);
        return {};
    });
}

int ukfs_stat(struct ukfs* fs, const char* filename, struct stat* st) {
    return stat_common(fs, filename, st, Follow::yes);
}

int ukfs_lstat(struct ukfs* fs, const char* filename, struct stat* st) {
    return stat_common(fs, filename, st, Follow::no);
}

int ukfs_chmod(struct ukfs* fs, const char* filename, mode_t mode) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.chmod(p, mode, Follow::yes);
    });
}

int ukfs_lchmod(struct ukfs* fs, const char* filename, mode_t mode) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.chmod(p, mode, Follow::no);
    });
}

// chown(2): an id of (uid_t)-1 leaves that id unchanged.
static std::optional<std::uint32_t> id_or_keep(unsigned id) {
    if (id == static_cast<unsigned>(-1))
        return std::nullopt;
    return id;
}

int ukfs_chown(struct ukfs* fs, const char* filename, uid_t uid, gid_t gid) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.chown(p, id_or_keep(uid), id_or_keep(gid), Follow::yes);
    });
}

int ukfs_lchown(struct ukfs* fs, const char* filename, uid_t uid, gid_t gid) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.chown(p, id_or_keep(uid), id_or_keep(gid), Follow::no);
    });
}

static Result<std::uint32_t> checked_flags(u_long flags) {
    if (flags & ~static_cast<u_long>(UKFS_SETTABLE_FLAGS))
        return Error::sys(EOPNOTSUPP, "unsupported file flags");
    return static_cast<std::uint32_t>(flags);
}

int ukfs_chflags(struct ukfs* fs, const char* filename, u_long flags) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        return m.chflags(p, UKFS_TRY(checked_flags(flags)), Follow::yes);
    });
}

int ukfs_lchflags(struct ukfs* fs, const char* filename, u_long flags) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        return m.chflags(p, UKFS_TRY(checked_flags(flags)), Follow::no);
    });
}

int ukfs_utimes(struct ukfs* fs, const char* filename, const struct timeval* tptr) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.utimes(p, time_at(tptr, 0), time_at(tptr, 1), Follow::yes);
    });
}

int ukfs_lutimes(struct ukfs* fs, const char* filename, const struct timeval* tptr) {
    return path_call(fs, filename, [&](uk::vfs::Mount& m, std::string_view p) {
        return m.utimes(p, time_at(tptr, 0), time_at(tptr, 1), Follow::no);
    });
}

int ukfs_util_builddirs(struct ukfs* fs, const char* pathname, mode_t mode) {
    // mkdir -p: every prefix that ends a component, existing directories allowed.
    return path_call(fs, pathname, [&](uk::vfs::Mount& m, std::string_view p) -> Result<void> {
        std::size_t pos = 0;
        while (pos < p.size()) {
            pos = p.find_first_not_of('/', pos);
            if (pos == std::string_view::npos)
                break;
            pos = p.find('/', pos);
            if (pos == std::string_view::npos)
                pos = p.size();
            auto r = m.mkdir(p.substr(0, pos), mode & ~process_umask());
            if (!r && r.error().errnum() != EEXIST)
                return r;
        }
        return {};
    });
}

}  // extern "C"
