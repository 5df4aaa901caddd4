// The C API's directory functions: ukfs_opendir/getdents/closedir, writing NetBSD struct
// dirent records (declared as struct ukfs_dirent in <ukfs/netbsd.h>).
#include <ukfs/ukfs.h>

#include <fcntl.h>

#include <cstring>

#include "api/c_call.hpp"
#include "api/handle.hpp"

using uk::Error;
using uk::Result;
using uk::api::c_call;
using uk::vfs::DirEntry;
using uk::vfs::VType;

namespace {

std::uint8_t dtype(VType t) {
    switch (t) {
    case VType::fifo: return 1;   // DT_FIFO
    case VType::chr: return 2;    // DT_CHR
    case VType::dir: return 4;    // DT_DIR
    case VType::blk: return 6;    // DT_BLK
    case VType::reg: return 8;    // DT_REG
    case VType::lnk: return 10;   // DT_LNK
    case VType::sock: return 12;  // DT_SOCK
    case VType::none: break;
    }
    return 0;  // DT_UNKNOWN
}

// Fill `buf` with records from `*off` on; returns the bytes used and moves *off past them.
// EINVAL when not even one record fits, as getdents(2).
Result<std::size_t> fill_dirents(uk::vfs::Mount& m, int fd, off_t* off, uint8_t* buf,
                                 size_t bufsize) {
    if (*off < 0)
        return Error::sys(EINVAL);
    std::size_t used = 0;
    bool too_small = false;
    auto cookie = static_cast<std::uint64_t>(*off);
    auto visit = [&](const DirEntry& e, std::uint64_t next) {
        std::size_t reclen = UKFS_DIRENT_RECLEN(e.name.size());
        if (e.name.size() > UKFS_MAXNAMLEN || used + reclen > bufsize) {
            too_small = used == 0;
            return false;
        }
        ukfs_dirent d{};
        d.d_fileno = e.ino;
        d.d_reclen = static_cast<std::uint16_t>(reclen);
        d.d_namlen = static_cast<std::uint16_t>(e.name.size());
        d.d_type = dtype(e.type);
        std::memset(buf + used, 0, reclen);
        std::memcpy(buf + used, &d, UKFS_DIRENT_NAMEOFF);
        std::memcpy(buf + used + UKFS_DIRENT_NAMEOFF, e.name.data(), e.name.size());
        used += reclen;
        cookie = next;
        return true;
    };
    UKFS_TRY(m.readdir_fd(fd, cookie, visit));
    if (too_small)
        return Error::sys(EINVAL, "buffer too small for a directory entry");
    *off = static_cast<off_t>(cookie);
    return used;
}

}  // namespace

extern "C" {

int ukfs_opendir(struct ukfs* fs, const char* dirname, struct ukfs_dircookie** c) {
    return c_call<int>([&]() -> Result<void> {
        if (dirname == nullptr || c == nullptr)
            return Error::sys(EFAULT);
        int fd = UKFS_TRY(fs->mount->open(dirname, O_RDONLY | O_DIRECTORY));
        *c = new ukfs_dircookie{fd};
        return {};
    });
}

int ukfs_getdents_cookie(struct ukfs* fs, struct ukfs_dircookie* c, off_t* off, uint8_t* buf,
                         size_t bufsize) {
    return c_call<int>([&]() -> Result<std::size_t> {
        if (c == nullptr || off == nullptr)
            return Error::sys(EFAULT);
        return fill_dirents(*fs->mount, c->fd, off, buf, bufsize);
    });
}

int ukfs_getdents(struct ukfs* fs, const char* dirname, off_t* off, uint8_t* buf, size_t bufsize) {
    return c_call<int>([&]() -> Result<std::size_t> {
        if (dirname == nullptr || off == nullptr)
            return Error::sys(EFAULT);
        int fd = UKFS_TRY(fs->mount->open(dirname, O_RDONLY | O_DIRECTORY));
        auto r = fill_dirents(*fs->mount, fd, off, buf, bufsize);
        (void)fs->mount->close(fd);  // a descriptor we just opened: closing cannot fail
        return r;
    });
}

int ukfs_closedir(struct ukfs* fs, struct ukfs_dircookie* c) {
    return c_call<int>([&]() -> Result<void> {
        if (c == nullptr)
            return Error::sys(EFAULT);
        auto r = fs->mount->close(c->fd);
        delete c;
        return r;
    });
}

}  // extern "C"
