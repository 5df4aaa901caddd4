// ukfs-fuse: any image ukfs opens, mounted on the host through FUSE (libfuse 3, high-level
// API). `ukfs-fuse IMAGE[SELECTOR] MOUNTPOINT [-t TYPE] [-o OPTIONS] [-f] [-d] [-s]`.
//
// The image is opened before FUSE mounts, so that a bad image is reported on the terminal; the
// mount is released in the destroy callback, which libfuse runs after the kernel unmounted
// (fusermount3 -u, umount, or SIGINT/SIGTERM/SIGHUP caught by libfuse's handlers), so the file
// system is marked clean. libfuse's loop is multithreaded unless -s: uk::Mount is thread-safe.
//
// Permissions are the kernel's business (default_permissions is always set): ukfs acts as
// root, and nodes made through the mount are given to the calling process's user.
#define FUSE_USE_VERSION 31

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fuse.h>

#include <fmt/format.h>

#include <ukfs/netbsd.h>
#include <ukfs/ukfs.hpp>

#include "ops.hpp"

namespace ukfs_fuse {
namespace {

struct State {
    std::optional<uk::Mount> mount;
    std::string image;
    bool debug = false;
    bool released = false;  // release() ran (in destroy or after fuse_main)
    bool release_failed = false;
};

State g_state;

}  // namespace

uk::Mount& mnt() {
    return *g_state.mount;
}

// An error to the kernel: -errno. Errors that say the image is damaged (EIO and friends, with
// the driver's explanation) are also printed, since the kernel shows only the number; with -d
// every error is.
int fail(const char* path, const uk::Error& e) {
    int err = e.errnum() > 0 ? e.errnum() : EIO;
    if (g_state.debug || (!e.message().empty() && (err == EIO || err == EOVERFLOW || err == EFBIG)))
        fmt::print(stderr, "ukfs-fuse: {}: {}\n", path ? path : "(unlinked)", e.describe());
    return -err;
}

namespace {

uk::File* file_of(const fuse_file_info* fi) {
    return reinterpret_cast<uk::File*>(static_cast<std::uintptr_t>(fi->fh));
}

std::string_view parent_of(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0)
        return "/";
    return path.substr(0, slash);
}

// A node made through the mount belongs to the calling process's user, and to its group
// unless the directory is set-group-ID (then the directory's group, which ukfs already gave).
int give_to_caller(const char* path) {
    const fuse_context* ctx = fuse_get_context();
    std::optional<std::uint32_t> gid = ctx->gid;
    if (auto dir = mnt().stat(parent_of(path)); dir && (dir->st_mode & S_ISGID))
        gid.reset();
    auto st = mnt().stat(path, uk::Follow::no);
    if (!st)
        return fail(path, st.error());
    if (st->st_uid == ctx->uid && (!gid || st->st_gid == *gid))
        return 0;
    if (auto r = mnt().chown(path, ctx->uid, gid, uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

// The termination signals libfuse catches (SIGINT, SIGTERM, SIGHUP) end its loop with the
// signal's number as an error, and fuse_main then exits 8. We note the signal, so that an
// unmount asked for by a signal and ended cleanly exits 0, and pass it on to libfuse's handler.
volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_fuse_handler[3];
constexpr int caught_signals[3] = {SIGINT, SIGTERM, SIGHUP};

void note_signal(int sig) {
    g_signal = sig;
    for (int i = 0; i < 3; ++i)
        if (caught_signals[i] == sig && g_fuse_handler[i].sa_handler != SIG_DFL &&
            g_fuse_handler[i].sa_handler != SIG_IGN)
            g_fuse_handler[i].sa_handler(sig);
}

void* op_init(fuse_conn_info* conn, fuse_config* cfg) {
    // chattr and lsattr of a directory: the kernel's flag ioctls on a directory handle.
    if (conn->capable & FUSE_CAP_IOCTL_DIR)
        conn->want |= FUSE_CAP_IOCTL_DIR;
    cfg->use_ino = 1;  // the image's inode numbers, as stat shows them
    cfg->readdir_ino = 1;
    // hard_remove stays off: an unlinked file still open is renamed to .fuse_hidden* until
    // closed, so that the kernel can still reach it by a path (fstat needs that).
    if (g_state.mount->read_only()) {
        // Nothing changes under a read-only mount: the kernel may cache for long.
        if (cfg->entry_timeout == 1.0)
            cfg->entry_timeout = 60.0;
        if (cfg->attr_timeout == 1.0)
            cfg->attr_timeout = 60.0;
        if (cfg->negative_timeout == 0.0)
            cfg->negative_timeout = 60.0;
    } else if (cfg->attr_timeout == 1.0) {
        // libfuse's high-level API gives each name of a hard-linked file its own kernel inode:
        // a change through one name would leave the other's attributes stale for a while.
        cfg->attr_timeout = 0.0;
    }
    // libfuse has installed its signal handlers by now (before its loop, which runs init).
    for (int i = 0; i < 3; ++i) {
        struct sigaction sa {};
        if (sigaction(caught_signals[i], nullptr, &g_fuse_handler[i]) != 0 ||
            (g_fuse_handler[i].sa_flags & SA_SIGINFO))
            continue;
        sa.sa_handler = note_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(caught_signals[i], &sa, nullptr);
    }
    return nullptr;
}

void release_mount() {
    if (g_state.released || !g_state.mount)
        return;
    g_state.released = true;
    // Every descriptor the kernel had is closed by now; force only against a leak.
    auto r = mnt().release(true);
    if (!r) {
        g_state.release_failed = true;
        fmt::print(stderr, "ukfs-fuse: {}: release: {}\n", g_state.image, r.error().describe());
    }
}

void op_destroy(void*) {
    release_mount();
}

int op_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
    if (fi && fi->fh) {
        auto r = file_of(fi)->stat();
        if (!r)
            return fail(path, r.error());
        *st = *r;
        return 0;
    }
    if (!path)
        return -ENOENT;
    auto r = mnt().stat(path, uk::Follow::no);
    if (!r)
        return fail(path, r.error());
    *st = *r;
    return 0;
}

int op_readlink(const char* path, char* buf, size_t size) {
    auto r = mnt().readlink(path);
    if (!r)
        return fail(path, r.error());
    if (size == 0)
        return -EINVAL;
    std::size_t n = std::min(r->size(), size - 1);  // FUSE wants it NUL-terminated, truncated
    std::memcpy(buf, r->data(), n);
    buf[n] = '\0';
    return 0;
}

int op_mknod(const char* path, mode_t mode, dev_t rdev) {
    if (auto r = mnt().mknod(path, mode, rdev); !r)
        return fail(path, r.error());
    return give_to_caller(path);
}

int op_mkdir(const char* path, mode_t mode) {
    if (auto r = mnt().mkdir(path, mode & 07777); !r)
        return fail(path, r.error());
    return give_to_caller(path);
}

int op_unlink(const char* path) {
    if (auto r = mnt().remove(path); !r)
        return fail(path, r.error());
    return 0;
}

int op_rmdir(const char* path) {
    if (auto r = mnt().rmdir(path); !r)
        return fail(path, r.error());
    return 0;
}

int op_symlink(const char* target, const char* path) {
    if (auto r = mnt().symlink(target, path); !r)
        return fail(path, r.error());
    return give_to_caller(path);
}

int op_rename(const char* from, const char* to, unsigned int flags) {
    if (flags & RENAME_EXCHANGE)
        return -EINVAL;  // ukfs has no atomic exchange
    if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE))
        return -EINVAL;
    if (flags & RENAME_NOREPLACE) {
        // Checked, then renamed: another process may create `to` between the two (a caller of
        // the mount racing itself); ukfs has no no-replace rename.
        if (mnt().stat(to, uk::Follow::no))
            return -EEXIST;
    }
    if (auto r = mnt().rename(from, to); !r)
        return fail(from, r.error());
    return 0;
}

int op_link(const char* existing, const char* path) {
    if (auto r = mnt().link(existing, path); !r)
        return fail(path, r.error());
    return 0;
}

int op_chmod(const char* path, mode_t mode, fuse_file_info*) {
    if (!path)
        return -ENOENT;
    if (auto r = mnt().chmod(path, mode & 07777, uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

int op_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info*) {
    if (!path)
        return -ENOENT;
    std::optional<std::uint32_t> u, g;
    if (uid != static_cast<uid_t>(-1))
        u = uid;
    if (gid != static_cast<gid_t>(-1))
        g = gid;
    if (auto r = mnt().chown(path, u, g, uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

int op_truncate(const char* path, off_t size, fuse_file_info* fi) {
    if (size < 0)
        return -EINVAL;
    if (fi && fi->fh) {
        // ftruncate(2): through the open file, which may have no name left. A handle open for
        // reading only (EINVAL) is left for the path, which the kernel has checked access to.
        auto r = file_of(fi)->truncate(static_cast<std::uint64_t>(size));
        if (r)
            return 0;
        if (r.error().errnum() != EINVAL || !path)
            return fail(path, r.error());
    }
    if (!path)
        return -ENOENT;
    if (auto r = mnt().truncate(path, static_cast<std::uint64_t>(size)); !r)
        return fail(path, r.error());
    return 0;
}

int open_common(const char* path, int flags, mode_t mode, fuse_file_info* fi) {
    if (!path)
        return -ENOENT;
    // What ukfs needs of the flags: access mode, append (ukfs appends at the true end, so the
    // kernel's offset is overridden), create and exclusive.
    int f = flags & (O_ACCMODE | O_APPEND | O_CREAT | O_EXCL | O_TRUNC);
    auto r = mnt().open_file(path, f, mode & 07777);
    if (!r)
        return fail(path, r.error());
    fi->fh = reinterpret_cast<std::uintptr_t>(new uk::File(std::move(*r)));
    // Nothing changes a read-only mount: the page cache stays good from one open to the next.
    // (Read-write, another name of the same file may have been written: see op_init.)
    fi->keep_cache = mnt().read_only() ? 1 : 0;
    return 0;
}

int op_open(const char* path, fuse_file_info* fi) {
    return open_common(path, fi->flags, 0, fi);
}

int op_create(const char* path, mode_t mode, fuse_file_info* fi) {
    int rc = open_common(path, fi->flags | O_CREAT, mode, fi);
    if (rc != 0)
        return rc;
    return give_to_caller(path);
}

// A whole read or write as the kernel asks for it: `step(done)` moves what it can from byte
// `done` on; short steps are repeated until all `size` bytes are moved, the end is reached, or
// an error comes (reported only when nothing moved).
template <typename Step>
int transfer(const char* path, off_t off, size_t size, Step step) {
    if (off < 0)
        return -EINVAL;
    std::size_t done = 0;
    while (done < size) {
        auto r = step(static_cast<std::uint64_t>(off) + done, done);
        if (!r) {
            if (done > 0)
                break;
            return fail(path, r.error());
        }
        if (*r == 0)
            break;
        done += *r;
    }
    return static_cast<int>(done);
}

int op_read(const char* path, char* buf, size_t size, off_t off, fuse_file_info* fi) {
    return transfer(path, off, size, [&](std::uint64_t at, std::size_t done) {
        return file_of(fi)->read(at, std::as_writable_bytes(std::span(buf + done, size - done)));
    });
}

int op_write(const char* path, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
    return transfer(path, off, size, [&](std::uint64_t at, std::size_t done) {
        return file_of(fi)->write(at, std::as_bytes(std::span(buf + done, size - done)));
    });
}

int op_statfs(const char* path, struct statvfs* sv) {
    auto r = mnt().statfs();
    if (!r)
        return fail(path, r.error());
    *sv = {};
    sv->f_bsize = r->block_size;
    sv->f_frsize = r->block_size;
    sv->f_blocks = r->blocks;
    sv->f_bfree = r->blocks_free;
    sv->f_bavail = r->blocks_avail;
    sv->f_files = r->files;
    sv->f_ffree = r->files_free;
    sv->f_favail = r->files_free;
    sv->f_namemax = r->name_max;
    return 0;
}

int op_release(const char* path, fuse_file_info* fi) {
    uk::File* f = file_of(fi);
    fi->fh = 0;
    auto r = f->close();
    delete f;
    if (!r)
        return fail(path, r.error());
    return 0;
}

int op_fsync(const char* path, int, fuse_file_info*) {
    if (mnt().read_only())
        return 0;
    if (auto r = mnt().sync(); !r)
        return fail(path, r.error());
    return 0;
}

// A directory as it was listed: opendir takes the listing (again at a rewind), readdir hands
// it out from an offset, so that the kernel's successive requests see one consistent list.
struct Listing {
    struct Entry {
        std::string name;
        std::uint64_t ino;
        mode_t type;
    };
    std::vector<Entry> entries;
    bool served = false;  // a request was answered from it: a later offset 0 is a rewind
};

Listing* listing_of(const fuse_file_info* fi) {
    return reinterpret_cast<Listing*>(static_cast<std::uintptr_t>(fi->fh));
}

int take_listing(const char* path, Listing& out) {
    auto dir = mnt().opendir(path);
    if (!dir)
        return fail(path, dir.error());
    out.entries.clear();
    bool dot = false, dotdot = false;
    for (const uk::DirEntry& e : *dir) {
        // A crafted name no host file can have: the kernel would fail the whole listing.
        if (e.name.empty() || e.name.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
            continue;
        dot = dot || e.name == ".";
        dotdot = dotdot || e.name == "..";
        out.entries.push_back({e.name, e.ino, static_cast<mode_t>(e.type) << 12});
    }
    if (dir->error())
        return fail(path, *dir->error());
    // Drivers whose directories hold no "." and ".." (cd9660's are nameless): as the host lists.
    if (!dot)
        out.entries.push_back({".", 0, S_IFDIR});
    if (!dotdot)
        out.entries.push_back({"..", 0, S_IFDIR});
    return 0;
}

int op_opendir(const char* path, fuse_file_info* fi) {
    if (!path)
        return -ENOENT;
    auto* l = new Listing;
    if (int rc = take_listing(path, *l); rc != 0) {
        delete l;
        return rc;
    }
    fi->fh = reinterpret_cast<std::uintptr_t>(l);
    return 0;
}

int op_releasedir(const char*, fuse_file_info* fi) {
    delete listing_of(fi);
    fi->fh = 0;
    return 0;
}

// Entries from `off` on, each with the offset of the next, as many as the kernel's buffer
// takes. For READDIRPLUS (a directory's first listing) an entry that can be looked up is
// marked for libfuse to look up, which gives the kernel the name's attributes with the
// listing and spares it a LOOKUP round trip per name; one that cannot is listed bare, as
// READDIR would, rather than failing the whole listing.
int op_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t off, fuse_file_info* fi,
               fuse_readdir_flags flags) {
    Listing* l = listing_of(fi);
    if (!l || !path)
        return -ENOENT;
    if (off == 0 && l->served) {  // rewinddir: the directory as it is now
        if (int rc = take_listing(path, *l); rc != 0)
            return rc;
    }
    l->served = true;
    const bool plus = (flags & FUSE_READDIR_PLUS) != 0;
    std::string child(path);
    if (child.back() != '/')
        child += '/';
    const std::size_t base = child.size();
    for (std::size_t i = static_cast<std::size_t>(std::max<off_t>(off, 0)); i < l->entries.size();
         ++i) {
        const Listing::Entry& e = l->entries[i];
        struct stat st {};
        st.st_ino = e.ino;
        st.st_mode = e.type;
        auto fill = static_cast<fuse_fill_dir_flags>(0);
        if (plus && e.name != "." && e.name != "..") {
            child.resize(base);
            child += e.name;
            // libfuse gives the kernel these attributes as they are: the whole of them.
            if (auto full = mnt().stat(child, uk::Follow::no)) {
                st = *full;
                fill = FUSE_FILL_DIR_PLUS;
            }
        }
        if (filler(buf, e.name.c_str(), &st, static_cast<off_t>(i + 1), fill) != 0)
            break;  // the kernel's buffer is full
    }
    return 0;
}

int op_fsyncdir(const char* path, int datasync, fuse_file_info* fi) {
    return op_fsync(path, datasync, fi);
}

int op_utimens(const char* path, const timespec tv[2], fuse_file_info*) {
    if (!path)
        return -ENOENT;
    std::optional<timespec> t[2];
    bool omit[2] = {false, false};
    for (int i = 0; i < 2; ++i) {
        if (tv == nullptr || tv[i].tv_nsec == UTIME_NOW)
            continue;  // nullopt: now
        if (tv[i].tv_nsec == UTIME_OMIT)
            omit[i] = true;
        else
            t[i] = tv[i];
    }
    if (omit[0] && omit[1])
        return 0;
    if (omit[0] || omit[1]) {
        // ukfs sets both times: the one left alone is set to what it is.
        auto st = mnt().stat(path, uk::Follow::no);
        if (!st)
            return fail(path, st.error());
        if (omit[0])
            t[0] = st->st_atim;
        if (omit[1])
            t[1] = st->st_mtim;
    }
    if (auto r = mnt().utimes(path, t[0], t[1], uk::Follow::no); !r)
        return fail(path, r.error());
    return 0;
}

fuse_operations make_operations() {
    fuse_operations op{};
    op.getattr = op_getattr;
    op.readlink = op_readlink;
    op.mknod = op_mknod;
    op.mkdir = op_mkdir;
    op.unlink = op_unlink;
    op.rmdir = op_rmdir;
    op.symlink = op_symlink;
    op.rename = op_rename;
    op.link = op_link;
    op.chmod = op_chmod;
    op.chown = op_chown;
    op.truncate = op_truncate;
    op.open = op_open;
    op.read = op_read;
    op.write = op_write;
    op.statfs = op_statfs;
    // No flush: writes are never held back here, and without it (ENOSYS once) the kernel
    // stops sending a FLUSH round trip on every close.
    op.release = op_release;
    op.fsync = op_fsync;
    op.opendir = op_opendir;
    op.readdir = op_readdir;
    op.releasedir = op_releasedir;
    op.fsyncdir = op_fsyncdir;
    op.init = op_init;
    op.destroy = op_destroy;
    op.create = op_create;
    op.utimens = op_utimens;
    op.setxattr = op_setxattr;
    op.getxattr = op_getxattr;
    op.listxattr = op_listxattr;
    op.removexattr = op_removexattr;
    op.ioctl = op_ioctl;
    return op;
}

// ---- the command line ------------------------------------------------------------------------

void usage(FILE* out) {
    fmt::print(
        out, "usage: ukfs-fuse IMAGE[SELECTOR] MOUNTPOINT [-t TYPE] [-o OPTIONS] [-fds]\n"
             "\n"
             "Mounts a file system image through FUSE. IMAGE is an image file or block device,\n"
             "with an optional partition selector (\"disk.img%GPT:2%\"); a type that needs no\n"
             "image (tmpfs) is given \"-\". Unmount with fusermount3 -u MOUNTPOINT.\n"
             "  -t TYPE     file system type (ext2fs, cd9660, tmpfs, ...); detected if not given\n"
             "  -o OPTIONS  comma-separated: ro, rw, cache=BYTES[k|m|g] are ukfs's; the others\n"
             "              go to FUSE (allow_other, allow_root, auto_unmount, max_read=N, ...)\n"
             "  -f          stay in the foreground\n"
             "  -d          debug: FUSE's request log and every error (implies -f)\n"
             "  -s          single-threaded\n"
             "  -h, --help  this text;  -V, --version  the version\n"
             "The image is mounted read-write unless -o ro is given, the driver only reads, or\n"
             "the image may only be read.\n");
}

struct Options {
    std::string type;
    bool ro = false, rw = false, async = false;
    std::size_t cache = std::size_t{64} << 20;
    std::vector<std::string> fuse_opts;   // -o words for FUSE
    std::vector<std::string> fuse_flags;  // -f, -d, -s
    std::vector<std::string> operands;
};

bool parse_size(std::string_view v, std::size_t& out) {
    std::string s(v);
    char* end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(s.c_str(), &end, 10);
    int shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        ++end;
    if (end == s.c_str() || *end || errno || s[0] == '-' || n > (1ULL << 40) >> shift)
        return false;
    out = static_cast<std::size_t>(n << shift);
    return true;
}

bool parse_o(std::string_view opts, Options& o) {
    while (!opts.empty()) {
        auto comma = opts.find(',');
        std::string_view w = opts.substr(0, comma);
        opts = comma == std::string_view::npos ? std::string_view{} : opts.substr(comma + 1);
        if (w.empty())
            continue;
        if (w == "ro" || w == "rdonly") {
            o.ro = true;
        } else if (w == "rw") {
            o.rw = true;
        } else if (w == "async") {
            o.async = true;
        } else if (w.starts_with("cache=")) {
            if (!parse_size(w.substr(6), o.cache)) {
                fmt::print(stderr, "ukfs-fuse: bad cache size: {}\n", w.substr(6));
                return false;
            }
        } else if (w == "default_permissions" || w.starts_with("fsname=") ||
                   w.starts_with("subtype=")) {
            // set by us; a second one would be ambiguous
        } else {
            o.fuse_opts.emplace_back(w);
        }
    }
    return true;
}

// 0 to go on, otherwise the exit status + 1 (help and version exit 0, errors 2).
int parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") {
            for (++i; i < argc; ++i)
                o.operands.emplace_back(argv[i]);
            break;
        }
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 1;
        }
        if (a == "-V" || a == "--version") {
            fmt::print("ukfs-fuse (ukfs) 0.1.0, libfuse {}\n", fuse_pkgversion());
            return 1;
        }
        if (a.size() < 2 || a[0] != '-') {
            o.operands.emplace_back(a);  // "-" too: the image of a type that needs none
            continue;
        }
        // Bundled flags ("-fd"), and -t/-o with their value attached or next.
        for (std::size_t j = 1; j < a.size(); ++j) {
            char c = a[j];
            if (c == 'f' || c == 'd' || c == 's') {
                o.fuse_flags.push_back(std::string("-") + c);
                continue;
            }
            if (c == 't' || c == 'o') {
                std::string_view val;
                if (j + 1 < a.size())
                    val = a.substr(j + 1);
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    fmt::print(stderr, "ukfs-fuse: -{} needs a value\n", c);
                    return 3;
                }
                if (c == 't')
                    o.type = val;
                else if (!parse_o(val, o))
                    return 3;
                break;
            }
            fmt::print(stderr, "ukfs-fuse: unknown option -{}\n", c);
            usage(stderr);
            return 3;
        }
    }
    if (o.operands.size() != 2) {
        usage(stderr);
        return 3;
    }
    if (o.ro && o.rw) {
        fmt::print(stderr, "ukfs-fuse: -o ro and -o rw together\n");
        return 3;
    }
    return 0;
}

// A value inside FUSE's -o list: commas and backslashes escaped.
std::string fuse_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == ',' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

}  // namespace
}  // namespace ukfs_fuse

using namespace ukfs_fuse;

int main(int argc, char** argv) {
    Options o;
    if (int rc = parse_args(argc, argv, o); rc != 0)
        return rc - 1;
    const std::string& image = o.operands[0];
    const std::string& mountpoint = o.operands[1];
    if (image == "-" && o.type.empty()) {
        fmt::print(stderr, "ukfs-fuse: -: no image; give the type of a file system that needs "
                           "none (-t tmpfs)\n");
        return 1;
    }
    for (const std::string& f : o.fuse_flags)
        if (f == "-d")
            g_state.debug = true;

    uk::MountOptions mo;
    mo.type = o.type;
    mo.read_only = o.ro;
    mo.cache_bytes = o.cache;
    mo.flags = o.async ? MNT_ASYNC : 0;
    auto m = uk::Mount::open(image, mo);
    if (!m && !o.ro && !o.rw && (m.error().errnum() == EROFS || m.error().errnum() == EACCES)) {
        // A driver that only reads, or an image we may only read: mounted read-only.
        int why = m.error().errnum();
        mo.read_only = true;
        m = uk::Mount::open(image, mo);
        if (m && why == EACCES)
            fmt::print(stderr, "ukfs-fuse: {}: no write access, mounted read-only\n", image);
    }
    if (!m) {
        fmt::print(stderr, "ukfs-fuse: {}: {}\n", image, m.error().describe());
        return 1;
    }
    g_state.mount.emplace(std::move(*m));
    g_state.image = image;
    bool read_only = g_state.mount->read_only();
    if (o.rw && read_only) {
        fmt::print(stderr, "ukfs-fuse: {}: the {} driver mounts read-only\n", image,
                   g_state.mount->type());
        release_mount();
        return 1;
    }

    std::string fuse_o = "default_permissions,fsname=" + fuse_escape(image) + ",subtype=ukfs";
    if (read_only)
        fuse_o += ",ro";
    bool idle_given = false;
    for (const std::string& w : o.fuse_opts) {
        fuse_o += "," + w;
        idle_given = idle_given || w.starts_with("max_idle_threads=");
    }
    // libfuse 3.14's default ("no limit") is refused by its own check with a warning.
    if (!idle_given)
        fuse_o += ",max_idle_threads=16";
    std::vector<std::string> fargs = {argv[0], mountpoint, "-o", fuse_o};
    for (const std::string& f : o.fuse_flags)
        fargs.push_back(f);
    std::vector<char*> fargv;
    for (std::string& s : fargs)
        fargv.push_back(s.data());
    fargv.push_back(nullptr);

    fuse_operations ops = make_operations();
    // A job started in the background by a script inherits SIGINT ignored, and libfuse leaves
    // an ignored signal alone: then `kill -INT` could not unmount. SIGINT is how a user stops
    // a mount, so it is given back its default here and libfuse installs its handler. (SIGHUP
    // stays as it came: nohup ignores it on purpose.)
    std::signal(SIGINT, SIG_DFL);
    int rc = fuse_main(static_cast<int>(fargs.size()), fargv.data(), &ops, nullptr);
    release_mount();  // when FUSE never got as far as init (bad mount point...)
    if (rc != 0 && g_signal != 0 && g_state.released)
        rc = 0;  // unmounted on SIGINT, SIGTERM or SIGHUP: a clean end
    if (rc == 0 && g_state.release_failed)
        rc = 1;
    return rc;
}
