// Attributes to struct stat, and the thread's last error message.
#include "api/c_call.hpp"
#include "api/handle.hpp"

#include <cstring>

namespace uk::api {

void attr_to_stat(const vfs::Attr& a, std::uint64_t dev, struct stat* st) {
    std::memset(st, 0, sizeof *st);
    st->st_dev = static_cast<dev_t>(dev);
    st->st_ino = a.ino;
    st->st_mode = static_cast<mode_t>(vfs::vtype_to_ifmt(a.type) | (a.mode & 07777));
    st->st_nlink = a.nlink;
    st->st_uid = a.uid;
    st->st_gid = a.gid;
    st->st_rdev = static_cast<dev_t>(a.rdev);
    st->st_size = static_cast<off_t>(a.size);
    st->st_blksize = static_cast<blksize_t>(a.blksize);
    st->st_blocks = static_cast<blkcnt_t>(a.blocks);
    st->st_atim = a.atime;
    st->st_mtim = a.mtime;
    st->st_ctim = a.ctime;
}

std::string& last_message() {
    thread_local std::string message;
    return message;
}

void set_error(const Error& e) {
    last_message() = e.message();
    errno = e.errnum();
}

}  // namespace uk::api

extern "C" const char* ukfs_errmsg(void) {
    return uk::api::last_message().c_str();
}
