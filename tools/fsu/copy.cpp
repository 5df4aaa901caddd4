// cp, ecp, write: copying between the image and the host, and within the image.
//
// The host side is treated as something a hostile image must not reach: extraction works
// relative to directory descriptors (openat/mkdirat/symlinkat with O_NOFOLLOW), so it never
// follows a symlink, never writes outside the target directory, refuses names holding '/' or
// NUL, and creates device nodes only when asked (-D). Reading from the host walks the named
// source the same way, so a symlink inside it is copied as a symlink, never followed out.
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include "fsu.hpp"
#include "progress.hpp"

namespace fsu {
namespace {

// The one buffer file copies go through, kept for the next file: a fresh 128 KiB buffer per
// file costs a mapping and its page faults each time.
IoBuffer& copy_buffer() {
    static thread_local IoBuffer buf(std::size_t{1} << 17);
    return buf;
}

struct CpOpts {
    bool recursive = false, preserve = false, devices = false, force = false;
    // With -p/-a, files with several links copied into an image stay linked: (dev, ino) of
    // the source to the first copy's path.
    mutable std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> links;
    // The same when extracting to the host: the first copy's directory (a descriptor, so that
    // linkat never resolves a path) and name. At most max_host_links are kept open.
    mutable std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<int, std::string>>
        host_links;
    static constexpr std::size_t max_host_links = 256;

    CpOpts() = default;
    CpOpts(const CpOpts&) = delete;
    CpOpts& operator=(const CpOpts&) = delete;
    ~CpOpts() {
        for (auto& [key, v] : host_links)
            ::close(v.first);
    }
};

// A later name of a multiply-linked file already copied into the image becomes a hard link.
bool image_relink(Ctx& c, const CpOpts& o, const struct stat& st, const std::string& dst) {
    if (!o.preserve || st.st_nlink < 2 || S_ISDIR(st.st_mode))
        return false;
    auto [it, fresh] = o.links.try_emplace({st.st_dev, st.st_ino}, dst);
    if (fresh)
        return false;
    if (auto old = c.mnt->stat(dst, uk::Follow::no); old && !S_ISDIR(old->st_mode))
        (void)c.mnt->remove(dst);
    auto r = c.mnt->link(it->second, dst);
    if (!r)
        c.fail(dst, r.error());
    return true;
}

mode_t current_umask() {
    mode_t m = umask(022);
    umask(m);
    return m;
}

class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
    Fd& operator=(Fd&& o) noexcept {
        std::swap(m_fd, o.m_fd);
        return *this;
    }
    ~Fd() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    int get() const { return m_fd; }
    bool ok() const { return m_fd >= 0; }

private:
    int m_fd;
};

// ---- image -> host -------------------------------------------------------------------------

// Make room for a new non-directory `name` in dfd: an existing non-directory is removed (so a
// planted symlink is replaced, never written through).
bool clear_slot(Ctx& c, int dfd, const std::string& name, const std::string& shown) {
    struct stat st;
    if (fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return true;
    if (S_ISDIR(st.st_mode)) {
        c.warnx("{}: is a directory", shown);
        return false;
    }
    if (unlinkat(dfd, name.c_str(), 0) != 0) {
        c.fail_errno(shown, errno);
        return false;
    }
    return true;
}

void set_host_attrs(Ctx& c, const CpOpts& o, int dfd, const std::string& name, int fd,
                    const struct stat& st, const std::string& shown) {
    // Owner first (it clears set-id bits), then mode, then times.
    bool is_link = S_ISLNK(st.st_mode);
    if (o.preserve) {
        int r = fd >= 0 ? fchown(fd, st.st_uid, st.st_gid)
                        : fchownat(dfd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        if (r != 0 && errno != EPERM)
            c.fail_errno(shown, errno);
    }
    if (!is_link) {
        mode_t mode = o.preserve ? (st.st_mode & 07777) : (st.st_mode & 0777 & ~current_umask());
        int r = fd >= 0 ? fchmod(fd, mode) : fchmodat(dfd, name.c_str(), mode, 0);
        if (r != 0)
            c.fail_errno(shown, errno);
    }
    if (o.preserve) {
        timespec ts[2] = {st.st_atim, st.st_mtim};
        int r = fd >= 0 ? futimens(fd, ts) : utimensat(dfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
        if (r != 0)
            c.fail_errno(shown, errno);
    }
}

void export_contents(Ctx& c, const CpOpts& o, const std::string& src, int dfd,
                     const std::string& shown);

void export_node(Ctx& c, const CpOpts& o, const std::string& src, int dfd, const std::string& name,
                 const std::string& shown, bool top) {
    if (bad_name(name)) {
        c.warnx("{}: refusing to extract a file with this name", shown);
        return;
    }
    auto st = c.mnt->stat(src, top && !o.recursive ? uk::Follow::yes : uk::Follow::no);
    if (!st) {
        c.fail(src, st.error());
        return;
    }
    const mode_t fmt = st->st_mode & S_IFMT;
    if (fmt == S_IFDIR) {
        if (!o.recursive) {
            c.warnx("{} is a directory (not copied).", src);
            return;
        }
        if (mkdirat(dfd, name.c_str(), 0700) != 0 && errno != EEXIST) {
            c.fail_errno(shown, errno);
            return;
        }
        Fd sub(openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.ok()) {  // an existing symlink where the directory goes is not followed
            c.fail_errno(shown, errno);
            return;
        }
        export_contents(c, o, src, sub.get(), shown);
        set_host_attrs(c, o, dfd, name, sub.get(), *st, shown);
        return;
    }
    if (fmt == S_IFLNK) {
        auto target = c.mnt->readlink(src);
        if (!target) {
            c.fail(src, target.error());
            return;
        }
        if (target->find('\0') != std::string::npos) {
            c.warnx("{}: refusing a symbolic link target holding NUL", src);
            return;
        }
        // Made at once when the name is free (the usual case), else after clearing it.
        bool made = symlinkat(target->c_str(), dfd, name.c_str()) == 0;
        if (!made && errno == EEXIST) {
            if (!clear_slot(c, dfd, name, shown))
                return;
            made = symlinkat(target->c_str(), dfd, name.c_str()) == 0;
        }
        if (!made) {
            c.fail_errno(shown, errno);
            return;
        }
        set_host_attrs(c, o, dfd, name, -1, *st, shown);
        return;
    }
    if (fmt == S_IFIFO || fmt == S_IFCHR || fmt == S_IFBLK) {
        if (fmt != S_IFIFO && !o.devices) {
            c.warnx("{}: device node not extracted (use -D to create device nodes)", src);
            return;
        }
        if (!clear_slot(c, dfd, name, shown))
            return;
        if (mknodat(dfd, name.c_str(), fmt | 0600, fmt == S_IFIFO ? 0 : st->st_rdev) != 0) {
            c.fail_errno(shown, errno);
            return;
        }
        set_host_attrs(c, o, dfd, name, -1, *st, shown);
        return;
    }
    if (fmt != S_IFREG) {
        c.warnx("{}: {} not extracted", src, type_name(st->st_mode));
        return;
    }
    const std::pair<std::uint64_t, std::uint64_t> key{st->st_dev, st->st_ino};
    if (o.preserve && st->st_nlink > 1) {
        auto it = o.host_links.find(key);
        if (it != o.host_links.end()) {
            if (!clear_slot(c, dfd, name, shown))
                return;
            if (linkat(it->second.first, it->second.second.c_str(), dfd, name.c_str(), 0) == 0)
                return;
            // The first copy is gone or elsewhere: copy the data again.
        }
    }
    auto in = c.mnt->open_file(src, O_RDONLY);
    if (!in) {
        c.fail(src, in.error());
        return;
    }
    // Open an existing regular file in place or make a new one; replace anything else (a
    // symlink, a FIFO). One call for the common case, a new file.
    Fd out(
        openat(dfd, name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (out.ok()) {
        struct stat hs;
        if (fstat(out.get(), &hs) != 0 || !S_ISREG(hs.st_mode))
            out = Fd();
        else if (hs.st_size != 0 && ftruncate(out.get(), 0) != 0) {
            c.fail_errno(shown, errno);
            return;
        }
    }
    if (!out.ok()) {
        if (!clear_slot(c, dfd, name, shown))
            return;
        out = Fd(
            openat(dfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!out.ok()) {
            c.fail_errno(shown, errno);
            return;
        }
    }
    // Clears O_NONBLOCK: no other flag F_SETFL changes was set.
    (void)fcntl(out.get(), F_SETFL, 0);
    IoBuffer& buf = copy_buffer();
    std::uint64_t off = 0;
    while (true) {
        auto n = in->read(off, buf);
        if (!n) {
            c.fail(src, n.error());
            return;
        }
        if (*n == 0)
            break;
        std::size_t done = 0;
        while (done < *n) {
            ssize_t w = ::write(out.get(), buf.data() + done, *n - done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                c.fail_errno(shown, errno);
                return;
            }
            done += static_cast<std::size_t>(w);
        }
        off += *n;
        Progress::get().add_bytes(*n);
    }
    Progress::get().add_file();
    set_host_attrs(c, o, dfd, name, out.get(), *st, shown);
    if (o.preserve && st->st_nlink > 1 && o.host_links.size() < CpOpts::max_host_links &&
        !o.host_links.count(key)) {
        int keep = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (keep >= 0)
            o.host_links.emplace(key, std::make_pair(keep, name));
    }
}

void export_contents(Ctx& c, const CpOpts& o, const std::string& src, int dfd,
                     const std::string& shown) {
    auto list = c.mnt->list(src);
    if (!list) {
        c.fail(src, list.error());
        return;
    }
    for (const uk::DirEntry& e : *list) {
        if (e.name == "." || e.name == "..")
            continue;
        if (bad_name(e.name)) {
            c.warnx("{}: refusing to extract a file with this name", join(src, e.name));
            continue;
        }
        export_node(c, o, join(src, e.name), dfd, e.name, join(shown, e.name), false);
    }
}

// Copy each image source into the host target, as cp does (target a directory: sources go in
// it; one source: target is its new name).
void export_all(Ctx& c, const CpOpts& o, const std::vector<std::string>& srcs,
                const std::string& target) {
    struct stat tst;
    bool target_dir = ::stat(target.c_str(), &tst) == 0 && S_ISDIR(tst.st_mode);
    if (!target_dir && srcs.size() > 1) {
        c.warnx("{}: not a directory", target);
        return;
    }
    if (target_dir) {
        Fd dfd(open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dfd.ok()) {
            c.fail_errno(target, errno);
            return;
        }
        for (const std::string& s : srcs) {
            std::string name = base_name(s);
            if (name == "/" || name == "." || name == "..") {
                // The root (or "."): its contents go into the target.
                auto st = c.mnt->stat(s);
                if (!st) {
                    c.fail(s, st.error());
                } else if (!o.recursive) {
                    c.warnx("{} is a directory (not copied).", s);
                } else {
                    export_contents(c, o, s, dfd.get(), target);
                }
                continue;
            }
            export_node(c, o, s, dfd.get(), name, join(target, name), true);
        }
        return;
    }
    std::string parent = dir_name(target), name = base_name(target);
    Fd dfd(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd.ok()) {
        c.fail_errno(parent, errno);
        return;
    }
    export_node(c, o, srcs[0], dfd.get(), name, target, true);
}

// ---- host -> image -------------------------------------------------------------------------

bool image_put_attrs(Ctx& c, const CpOpts& o, const std::string& dst, const struct stat& st) {
    bool link = S_ISLNK(st.st_mode);
    if (o.preserve) {
        auto r = c.mnt->chown(dst, st.st_uid, st.st_gid, uk::Follow::no);
        if (!r) {
            c.fail(dst, r.error());
            return false;
        }
    }
    if (!link) {
        auto r = c.mnt->chmod(
            dst, o.preserve ? st.st_mode & 07777 : st.st_mode & 0777 & ~current_umask(),
            uk::Follow::no);
        if (!r) {
            c.fail(dst, r.error());
            return false;
        }
    }
    if (o.preserve) {
        auto r = c.mnt->utimes(dst, st.st_atim, st.st_mtim, uk::Follow::no);
        if (!r && !(link && r.error().errnum() == EOPNOTSUPP)) {
            c.fail(dst, r.error());
            return false;
        }
    }
    return true;
}

// Remove a non-directory in the image where a new one goes.
bool image_clear(Ctx& c, const std::string& dst) {
    auto st = c.mnt->stat(dst, uk::Follow::no);
    if (!st)
        return true;
    if (S_ISDIR(st->st_mode)) {
        c.warnx("{}: is a directory", dst);
        return false;
    }
    if (S_ISREG(st->st_mode))
        return true;  // overwritten in place
    auto r = c.mnt->remove(dst);
    if (!r) {
        c.fail(dst, r.error());
        return false;
    }
    return true;
}

// Write `size` bytes from a reader into image file dst.
template <class Reader>
bool image_write_file(Ctx& c, const std::string& dst, Reader&& read, const std::string& shown) {
    auto f = c.mnt->open_file(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!f) {
        c.fail(dst, f.error());
        return false;
    }
    IoBuffer& buf = copy_buffer();
    std::uint64_t off = 0;
    while (true) {
        long n = read(buf, off);
        if (n < 0) {
            c.fail_errno(shown, static_cast<int>(-n));
            return false;
        }
        if (n == 0)
            break;
        auto w = f->write(off, std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
        if (!w) {
            c.fail(dst, w.error());
            return false;
        }
        off += static_cast<std::uint64_t>(n);
        Progress::get().add_bytes(static_cast<std::uint64_t>(n));
    }
    Progress::get().add_file();
    auto r = f->close();
    if (!r) {
        c.fail(dst, r.error());
        return false;
    }
    return true;
}

void import_node(Ctx& c, const CpOpts& o, int pfd, const std::string& name,
                 const std::string& shown, const std::string& dst, bool top) {
    struct stat st;
    int sflags = top && !o.recursive ? 0 : AT_SYMLINK_NOFOLLOW;
    if (fstatat(pfd, name.c_str(), &st, sflags) != 0) {
        c.fail_errno(shown, errno);
        return;
    }
    const mode_t fmt = st.st_mode & S_IFMT;
    if (fmt == S_IFDIR) {
        if (!o.recursive) {
            c.warnx("{} is a directory (not copied).", shown);
            return;
        }
        Fd fd(
            openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | (top ? 0 : O_NOFOLLOW) | O_CLOEXEC));
        if (!fd.ok()) {
            c.fail_errno(shown, errno);
            return;
        }
        auto dst_st = c.mnt->stat(dst);
        if (!dst_st) {
            auto r = c.mnt->mkdir(dst, 0700);
            if (!r) {
                c.fail(dst, r.error());
                return;
            }
        } else if (!S_ISDIR(dst_st->st_mode)) {
            c.fail_errno(dst, ENOTDIR);
            return;
        }
        DIR* d = fdopendir(dup(fd.get()));
        if (!d) {
            c.fail_errno(shown, errno);
            return;
        }
        std::vector<std::string> names;
        while (dirent* e = readdir(d))
            if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
                names.emplace_back(e->d_name);
        closedir(d);
        for (const std::string& n : names)
            import_node(c, o, fd.get(), n, join(shown, n), join(dst, n), false);
        image_put_attrs(c, o, dst, st);
        return;
    }
    if (!image_clear(c, dst))
        return;
    if (image_relink(c, o, st, dst))
        return;
    if (fmt == S_IFLNK) {
        char buf[4096];
        ssize_t n = readlinkat(pfd, name.c_str(), buf, sizeof buf);
        if (n < 0) {
            c.fail_errno(shown, errno);
            return;
        }
        auto r = c.mnt->symlink(std::string_view(buf, static_cast<std::size_t>(n)), dst);
        if (!r) {
            c.fail(dst, r.error());
            return;
        }
        image_put_attrs(c, o, dst, st);
        return;
    }
    if (fmt != S_IFREG) {
        auto r = c.mnt->mknod(dst, st.st_mode, st.st_rdev);
        if (!r) {
            c.fail(dst, r.error());
            return;
        }
        image_put_attrs(c, o, dst, st);
        return;
    }
    Fd fd(openat(pfd, name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | (sflags ? O_NOFOLLOW : 0)));
    struct stat fst;
    if (!fd.ok() || fstat(fd.get(), &fst) != 0 || !S_ISREG(fst.st_mode) ||
        fst.st_ino != st.st_ino) {
        c.fail_errno(shown, fd.ok() ? EAGAIN : errno);  // changed under us
        return;
    }
    bool ok = image_write_file(
        c, dst,
        [&](std::span<std::byte> buf, std::uint64_t) -> long {
            while (true) {
                ssize_t n = ::read(fd.get(), buf.data(), buf.size());
                if (n >= 0)
                    return n;
                if (errno != EINTR)
                    return -errno;
            }
        },
        shown);
    if (ok)
        image_put_attrs(c, o, dst, st);
}

// ---- image -> image ------------------------------------------------------------------------

// From `from` (c.mnt itself or a second image) into c.mnt.
void copy_in_image(Ctx& c, uk::Mount& from, const CpOpts& o, const std::string& src,
                   const std::string& dst, bool top) {
    const bool same_mount = &from == c.mnt;
    auto st = from.stat(src, top && !o.recursive ? uk::Follow::yes : uk::Follow::no);
    if (!st) {
        c.fail(src, st.error());
        return;
    }
    const mode_t fmt = st->st_mode & S_IFMT;
    if (fmt == S_IFDIR) {
        if (!o.recursive) {
            c.warnx("{} is a directory (not copied).", src);
            return;
        }
        auto dst_st = c.mnt->stat(dst);
        if (same_mount && dst_st && dst_st->st_ino == st->st_ino) {
            c.warnx("{} and {} are identical (not copied).", src, dst);
            return;
        }
        if (!dst_st) {
            auto r = c.mnt->mkdir(dst, 0700);
            if (!r) {
                c.fail(dst, r.error());
                return;
            }
        }
        auto list = from.list(src);
        if (!list) {
            c.fail(src, list.error());
            return;
        }
        auto new_st = c.mnt->stat(dst);
        for (const uk::DirEntry& e : *list) {
            if (e.name == "." || e.name == "..")
                continue;
            if (same_mount && new_st && e.ino == new_st->st_ino)
                continue;  // cp -R a a/b: do not copy the copy
            if (bad_name(e.name)) {
                c.warnx("{}: bad name in directory", join(src, e.name));
                continue;
            }
            copy_in_image(c, from, o, join(src, e.name), join(dst, e.name), false);
        }
        image_put_attrs(c, o, dst, *st);
        return;
    }
    auto dst_st = c.mnt->stat(dst);
    if (same_mount && dst_st && dst_st->st_ino == st->st_ino) {
        c.warnx("{} and {} are identical (not copied).", src, dst);
        return;
    }
    if (!image_clear(c, dst))
        return;
    if (image_relink(c, o, *st, dst))
        return;
    if (fmt == S_IFLNK) {
        auto t = from.readlink(src);
        auto r = t ? c.mnt->symlink(*t, dst) : uk::Result<void>(t.error());
        if (!r) {
            c.fail(dst, r.error());
            return;
        }
    } else if (fmt != S_IFREG) {
        auto r = c.mnt->mknod(dst, st->st_mode, st->st_rdev);
        if (!r) {
            c.fail(dst, r.error());
            return;
        }
    } else {
        auto in = from.open_file(src, O_RDONLY);
        if (!in) {
            c.fail(src, in.error());
            return;
        }
        bool ok = image_write_file(
            c, dst,
            [&](std::span<std::byte> buf, std::uint64_t off) -> long {
                auto n = in->read(off, buf);
                if (!n)
                    return -n.error().errnum();
                return static_cast<long>(*n);
            },
            src);
        if (!ok)
            return;
    }
    image_put_attrs(c, o, dst, *st);
}

bool parse_cp(Ctx& c, std::vector<std::string>& args, CpOpts& o, std::vector<std::string>& ops,
              const char* usage_line, SecondImage* second = nullptr) {
    Getopt g(args, second ? "aDfpRrPHLI:T:" : "aDfpRrPHL");
    for (int ch; (ch = g.next()) != -1;) {
        switch (ch) {
        case 'I': second->image = g.arg(); break;
        case 'T': second->type = g.arg(); break;
        case 'a': o.recursive = o.preserve = true; break;
        case 'D': o.devices = true; break;
        case 'f': o.force = true; break;
        case 'p': o.preserve = true; break;
        case 'R':
        case 'r': o.recursive = true; break;
        case 'P':
        case 'H':
        case 'L': break;
        default: fmt::print(stderr, "usage: {} {}\n", c.prog, usage_line); return false;
        }
    }
    ops = g.operands();
    if (ops.size() < 2) {
        fmt::print(stderr, "usage: {} {}\n", c.prog, usage_line);
        return false;
    }
    return true;
}

}  // namespace

int cmd_ecp(Ctx& c, std::vector<std::string>& args) {
    CpOpts o;
    std::vector<std::string> ops;
    if (!parse_cp(c, args, o, ops, "[-aDpR] image-file ... host-target"))
        return 2;
    ProgressScope progress;
    std::string target = ops.back();
    if (auto h = host_operand(target))
        target = *h;
    ops.pop_back();
    export_all(c, o, ops, target);
    return c.status;
}

int cmd_cp(Ctx& c, std::vector<std::string>& args) {
    CpOpts o;
    std::vector<std::string> ops;
    SecondImage second;
    if (!parse_cp(c, args, o, ops,
                  "[-aDfpR] [-I image2 [-T type2]] source ... target\n"
                  "  (host:PATH is on the host, 2:PATH in image2)",
                  &second))
        return 2;
    ProgressScope progress;
    std::string target = ops.back();
    ops.pop_back();
    bool need_second = second_operand(target).has_value();
    for (const std::string& s : ops)
        need_second |= second_operand(s).has_value();
    if (need_second && !second.open(c, second_operand(target).has_value()))
        return 1;
    auto mount_of = [&](const std::string& operand, std::string* path) -> uk::Mount* {
        if (auto p = second_operand(operand)) {
            *path = *p;
            return &*second.mount;
        }
        *path = operand;
        return c.mnt;
    };
    if (auto h = host_operand(target)) {
        struct stat tst;
        bool target_dir = ::stat(h->c_str(), &tst) == 0 && S_ISDIR(tst.st_mode);
        if (!target_dir && ops.size() > 1) {
            c.warnx("{}: not a directory", *h);
            return 1;
        }
        for (const std::string& s : ops) {
            if (host_operand(s)) {
                c.warnx("{}: host to host copies are cp(1)'s job", s);
                c.status = 1;
                continue;
            }
            std::string path;
            Ctx sub(mount_of(s, &path), c.prog, c.image);
            export_all(sub, o, {path}, *h);
            c.status |= sub.status;
        }
        return c.status;
    }
    std::string tpath;
    Ctx dst(mount_of(target, &tpath), c.prog, c.image);
    auto tst = dst.mnt->stat(tpath);
    bool target_dir = tst && S_ISDIR(tst->st_mode);
    if (!target_dir && ops.size() > 1) {
        c.warnx("{}: not a directory", target);
        return 1;
    }
    for (const std::string& s : ops) {
        if (auto h = host_operand(s)) {
            std::string parent = dir_name(*h), name = base_name(*h);
            if (name == "/" || name == "." || name == "..") {
                parent = *h;
                name = ".";
            }
            Fd pfd(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!pfd.ok()) {
                c.fail_errno(parent, errno);
                continue;
            }
            std::string d = target_dir && name != "." ? join(tpath, name) : tpath;
            import_node(dst, o, pfd.get(), name, *h, d, true);
        } else {
            std::string path;
            uk::Mount* from = mount_of(s, &path);
            std::string name = base_name(path);
            std::string d = target_dir && name != "/" ? join(tpath, name) : tpath;
            copy_in_image(dst, *from, o, path, d, true);
        }
    }
    c.status |= dst.status;
    if (second.mount && !second.mount->read_only()) {
        auto r = second.mount->release();
        if (!r)
            c.fail(second.image, r.error());
    }
    return c.status;
}

int cmd_write(Ctx& c, std::vector<std::string>& args) {
    bool append = false;
    Getopt g(args, "a");
    for (int ch; (ch = g.next()) != -1;) {
        if (ch == 'a')
            append = true;
        else
            return 2;
    }
    auto ops = g.operands();
    if (ops.size() != 1) {
        fmt::print(stderr, "usage: {} [-a] file\n", c.prog);
        return 2;
    }
    if (c.stdin_is_script) {
        c.warnx("standard input holds the commands: give the shell a script file to use write");
        return 1;
    }
    auto f = c.mnt->open_file(ops[0], O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC), 0644);
    if (!f) {
        c.fail(ops[0], f.error());
        return 1;
    }
    std::uint64_t off = 0;
    if (append) {
        auto st = f->stat();
        if (st)
            off = static_cast<std::uint64_t>(st->st_size);
    }
    IoBuffer buf(std::size_t{1} << 16);
    while (true) {
        ssize_t n = ::read(0, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            c.fail_errno("stdin", errno);
            return 1;
        }
        if (n == 0)
            break;
        auto w = f->write(off, std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
        if (!w) {
            c.fail(ops[0], w.error());
            return 1;
        }
        off += static_cast<std::uint64_t>(n);
    }
    auto r = f->close();
    if (!r)
        c.fail(ops[0], r.error());
    return c.status;
}

std::string extract_temp(Ctx& c, const std::string& path, const std::string& tmpdir) {
    Fd dfd(open(tmpdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd.ok()) {
        c.fail_errno(tmpdir, errno);
        return "";
    }
    std::string name = base_name(path);
    if (bad_name(name))
        name = "root";
    CpOpts o;
    o.recursive = o.preserve = true;
    int before = c.status;
    export_node(c, o, path, dfd.get(), name, join(tmpdir, name), false);
    struct stat st;
    if (fstatat(dfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return "";
    c.status = before;  // the copy is for reading only; partial metadata is fine
    return join(tmpdir, name);
}

}  // namespace fsu
