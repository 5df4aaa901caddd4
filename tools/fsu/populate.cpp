// fsu populate: build an image's tree from a host directory in one pass, the way makefs does,
// without root: owners, modes and times come from the source, from --owner/--file-mode/
// --dir-mode, or from an mtree(5) specification (-F, read with libarchive), and device nodes
// can come from the specification alone.
//
// The work is planned first, then done: the plan is every path with its type and attributes,
// sorted, so that the image is written in the same order for the same input. Directories are
// made before their entries; their times are set last, children first, so that making an entry
// does not move its directory's time. Times later than SOURCE_DATE_EPOCH are clamped to it.
//
// The source is read beneath a directory descriptor (openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS), so a symlink in it is copied as a symlink, never followed out.
#include "fsu.hpp"
#include "progress.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>

namespace fsu {

namespace {

struct Node {
    mode_t mode = 0;  // type and permissions
    uid_t uid = 0;
    gid_t gid = 0;
    timespec mtime{};
    std::string link;  // symlink target
    dev_t rdev = 0;
    std::string hardlink;                 // another planned path this one is a hard link to
    std::pair<dev_t, ino_t> source_id{};  // a multiply-linked source file's identity
    bool from_source = false;             // content from the same path in the source tree
    std::string contents;  // else from this file below the source (the spec's contents=)
    std::vector<std::pair<std::string, std::vector<std::byte>>> xattrs;  // the source's
};

// Paths ordered component-wise, so that a directory comes right before its entries.
struct PathLess {
    bool operator()(const std::string& a, const std::string& b) const {
        return std::lexicographical_compare(
            a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
                auto key = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c); };
                return key(x) < key(y);
            });
    }
};
using Plan = std::map<std::string, Node, PathLess>;

int open_beneath(int root, const std::string& rel, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    return static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
}

// The extended attributes of the file or directory `rel` below `root`, in name order.
bool read_xattrs(Ctx& c, int root, const std::string& rel, Node& n) {
    const int fd = open_beneath(root, rel, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        c.fail_errno(rel, errno);
        return false;
    }
    std::vector<char> names(1024);
    ssize_t len;
    while ((len = flistxattr(fd, names.data(), names.size())) < 0 && errno == ERANGE)
        names.resize(names.size() * 4);
    bool ok = len >= 0 || errno == ENOTSUP;
    if (!ok)
        c.fail_errno(rel, errno);
    for (ssize_t i = 0; ok && i < len;) {
        const std::string name(names.data() + i);
        i += static_cast<ssize_t>(name.size()) + 1;
        std::vector<std::byte> value(65536);
        const ssize_t got = fgetxattr(fd, name.c_str(), value.data(), value.size());
        if (got < 0) {
            c.fail_errno(rel + ": " + name, errno);
            ok = false;
            break;
        }
        value.resize(static_cast<std::size_t>(got));
        n.xattrs.emplace_back(name, std::move(value));
    }
    std::sort(n.xattrs.begin(), n.xattrs.end());
    ::close(fd);
    return ok;
}

// Every path under `rel` (a directory below `root`), with its attributes, into `plan`.
bool plan_source(Ctx& c, int root, const std::string& rel, Plan& plan) {
    const int fd = open_beneath(root, rel.empty() ? "." : rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        c.fail_errno(rel.empty() ? "." : rel, errno);
        return false;
    }
    DIR* d = fdopendir(fd);
    if (!d) {
        c.fail_errno(rel, errno);
        ::close(fd);
        return false;
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
            names.emplace_back(e->d_name);
    bool ok = true;
    for (const std::string& name : names) {
        const std::string path = rel.empty() ? name : rel + "/" + name;
        struct stat st {};
        if (fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            c.fail_errno(path, errno);
            ok = false;
            continue;
        }
        Node n;
        n.mode = st.st_mode;
        n.uid = st.st_uid;
        n.gid = st.st_gid;
        n.mtime = st.st_mtim;
        n.rdev = st.st_rdev;
        if (S_ISLNK(st.st_mode)) {
            std::vector<char> buf(static_cast<std::size_t>(std::max<off_t>(st.st_size, 255)) + 1);
            const ssize_t len = readlinkat(dirfd(d), name.c_str(), buf.data(), buf.size());
            if (len < 0) {
                c.fail_errno(path, errno);
                ok = false;
                continue;
            }
            n.link.assign(buf.data(), static_cast<std::size_t>(len));
        } else if (S_ISREG(st.st_mode)) {
            n.from_source = true;
        }
        if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && !read_xattrs(c, root, path, n))
            ok = false;
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
            n.source_id = {st.st_dev, st.st_ino};
        plan["/" + path] = std::move(n);
        if (S_ISDIR(st.st_mode))
            ok = plan_source(c, root, path, plan) && ok;
    }
    closedir(d);
    return ok;
}

// libarchive opens a contents= file itself, with open(2) from the working directory: it would
// follow symlinks and absolute paths out of the source, and hand over the bytes while the spec
// is read. So the keyword reaches it disguised as link= (hex, under a prefix), which it only
// stores; the file is opened beneath the source when it is written (write_content).
constexpr std::string_view contents_tag = "ukfs-contents:";

std::string disguise_contents(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const bool word_start =
            i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n';
        std::size_t key = 0;
        if (word_start && text.compare(i, 9, "contents=") == 0)
            key = 9;
        else if (word_start && text.compare(i, 8, "content=") == 0)
            key = 8;
        if (key == 0) {
            out += text[i++];
            continue;
        }
        std::size_t end = text.find_first_of(" \t\n", i + key);
        if (end == std::string::npos)
            end = text.size();
        if (end > i + key && text[end - 1] == '\\' && end < text.size() && text[end] == '\n')
            --end;  // a continuation backslash belongs to the line, not to the value
        out += "link=";
        out += contents_tag;
        for (std::size_t j = i + key; j < end; ++j)
            out += fmt::format("{:02x}", static_cast<unsigned char>(text[j]));
        i = end;
    }
    return out;
}

// The contents= value hidden by disguise_contents, with mtree(5)'s escapes undone; nullopt when
// `link` is a real link target.
std::optional<std::string> reveal_contents(std::string_view link) {
    if (!link.starts_with(contents_tag))
        return std::nullopt;
    link.remove_prefix(contents_tag.size());
    auto digit = [](char h) {
        return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
    };
    std::string raw;
    for (std::size_t i = 0; i < link.size(); i += 2) {
        const int hi = digit(link[i]), lo = i + 1 < link.size() ? digit(link[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return std::string{};  // not ours after all: refused as naming no file
        raw += static_cast<char>(hi << 4 | lo);
    }
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 >= raw.size()) {
            out += raw[i];
            continue;
        }
        const char e = raw[++i];
        if (e >= '0' && e <= '3' && i + 2 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7' &&
            raw[i + 2] >= '0' && raw[i + 2] <= '7') {
            out += static_cast<char>(((e - '0') << 6) | ((raw[i + 1] - '0') << 3) |
                                     (raw[i + 2] - '0'));
            i += 2;
            continue;
        }
        switch (e) {
        case 's': out += ' '; break;
        case 't': out += '\t'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        default:
            out += '\\';
            out += e;
            break;
        }
    }
    return out;
}

// Overlay an mtree specification: its entries' attributes replace the source's; entries the
// source lacks are added. libarchive fills what the spec leaves out from the file of the same
// path in the source ("checkfs"), which is why it reads with the source as the working
// directory.
bool plan_spec(Ctx& c, const std::string& spec, int root, Plan& plan) {
    std::string text;
    {
        const int spec_fd = ::open(spec.c_str(), O_RDONLY | O_CLOEXEC);
        if (spec_fd < 0) {
            c.fail_errno(spec, errno);
            return false;
        }
        char buf[1 << 16];
        ssize_t got;
        while ((got = ::read(spec_fd, buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR))
            if (got > 0)
                text.append(buf, static_cast<std::size_t>(got));
        const int err = errno;
        ::close(spec_fd);
        if (got < 0) {
            c.fail_errno(spec, err);
            return false;
        }
    }
    text = disguise_contents(text);
    const int cwd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0 || fchdir(root) != 0) {
        c.fail_errno(".", errno);
        if (cwd >= 0)
            ::close(cwd);
        return false;
    }
    archive* a = archive_read_new();
    archive_read_support_format_mtree(a);
    archive_read_set_options(a, "mtree:checkfs");
    bool ok = true;
    if (archive_read_open_memory(a, text.data(), text.size()) != ARCHIVE_OK) {
        c.warnx("{}: {}", spec, archive_error_string(a));
        ok = false;
    }
    archive_entry* e = nullptr;
    while (ok) {
        const int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            c.warnx("{}: {}", spec, archive_error_string(a));
            ok = false;
            break;
        }
        std::string path = archive_entry_pathname(e);
        if (path.starts_with("./"))
            path.erase(0, 2);
        while (!path.empty() && path.back() == '/')
            path.pop_back();
        if (path.empty() || path == ".")
            continue;  // the root: its attributes are the image's
        const std::string key = "/" + path;
        const bool known = plan.count(key) != 0;
        Node& n = plan[key];
        const mode_t type = archive_entry_filetype(e);
        if (n.mode != 0 && (n.mode & S_IFMT) != type) {
            c.warnx("{}: the specification's type differs from the source's", path);
            ok = false;
            continue;
        }
        n.mode = type | (archive_entry_perm(e) & 07777);
        n.uid = static_cast<uid_t>(archive_entry_uid(e));
        n.gid = static_cast<gid_t>(archive_entry_gid(e));
        if (archive_entry_mtime_is_set(e))
            n.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
        else if (!known)
            n.mtime = {0, -1};  // filled in with the build's time
        const char* link = archive_entry_symlink(e);
        if (auto file = reveal_contents(link != nullptr ? link : "")) {
            if (type != AE_IFREG || file->empty()) {
                c.warnx("{}: contents= names no file, or the entry is not a file", path);
                ok = false;
                continue;
            }
            n.contents = std::move(*file);
            n.from_source = false;
        } else if (type == AE_IFLNK && link != nullptr) {
            n.link = link;
        }
        if (type == AE_IFCHR || type == AE_IFBLK)
            n.rdev = archive_entry_rdev(e);
    }
    archive_read_free(a);
    if (fchdir(cwd) != 0) {
        c.fail_errno(".", errno);
        ok = false;
    }
    ::close(cwd);
    return ok;
}

bool write_content(Ctx& c, int root, const std::string& path, const std::string& source_path,
                   const Node& n) {
    auto f = c.mnt->open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!f) {
        c.fail(path, f.error());
        return false;
    }
    std::uint64_t off = 0;
    auto put = [&](std::span<const std::byte> bytes) {
        auto w = f->write(off, bytes);
        if (!w) {
            c.fail(path, w.error());
            return false;
        }
        off += bytes.size();
        Progress::get().add_bytes(bytes.size());
        return true;
    };
    // The source file of the same path, or the spec's contents= file, opened beneath the
    // source; otherwise the file stays empty.
    const std::string from = n.from_source ? source_path : n.contents;
    if (!from.empty()) {
        const int fd = open_beneath(root, from, O_RDONLY | O_NONBLOCK);
        if (fd < 0) {
            c.fail_errno(from, errno);
            return false;
        }
        // One buffer for every file: making and zeroing a new one per file costs more than
        // copying a small file.
        static thread_local std::vector<std::byte> buf(std::size_t{1} << 17);
        bool ok = true;
        while (ok) {
            const ssize_t got = ::read(fd, buf.data(), buf.size());
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                c.fail_errno(from, errno);
                ok = false;
            } else if (got == 0) {
                break;
            } else {
                ok = put(std::span(buf.data(), static_cast<std::size_t>(got)));
            }
        }
        ::close(fd);
        if (!ok)
            return false;
    }
    if (auto r = f->close(); !r) {
        c.fail(path, r.error());
        return false;
    }
    Progress::get().add_file();
    return true;
}

// Make one planned node (its directory exists).
bool make_node(Ctx& c, int root, const std::string& base, const std::string& path, const Node& n) {
    uk::Result<void> r;
    if (auto old = c.mnt->stat(path, uk::Follow::no); old) {
        if ((old->st_mode & S_IFMT) != (n.mode & S_IFMT) || !S_ISDIR(n.mode)) {
            c.warnx("{}: exists in the image", path);
            return false;
        }
    } else if (!n.hardlink.empty()) {
        r = c.mnt->link(base + n.hardlink, path);
        if (!r) {
            c.fail(path, r.error());
            return false;
        }
        return true;  // the first name carries the attributes
    } else if (S_ISDIR(n.mode)) {
        r = c.mnt->mkdir(path, 0700);
    } else if (S_ISLNK(n.mode)) {
        r = c.mnt->symlink(n.link, path);
    } else if (S_ISREG(n.mode)) {
        if (!write_content(c, root, path, path.substr(base.size() + 1), n))
            return false;
    } else {
        r = c.mnt->mknod(path, n.mode, n.rdev);
    }
    if (!r) {
        c.fail(path, r.error());
        return false;
    }
    // As cp -a: a type that cannot hold the attributes leaves them out without failing.
    for (const auto& [name, value] : n.xattrs)
        if (auto o = c.mnt->set_xattr(path, name, value); !o && o.error().errnum() != ENOTSUP) {
            c.fail(path + ": " + name, o.error());
            return false;
        }
    if (auto o = c.mnt->chown(path, n.uid, n.gid, uk::Follow::no); !o) {
        c.fail(path, o.error());
        return false;
    }
    if (!S_ISLNK(n.mode))
        if (auto o = c.mnt->chmod(path, n.mode & 07777, uk::Follow::no); !o) {
            c.fail(path, o.error());
            return false;
        }
    return true;
}

}  // namespace

int cmd_populate(Ctx& c, std::vector<std::string>& args) {
    std::string spec;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::optional<mode_t> file_mode, dir_mode;
    auto usage = [&] {
        fmt::print(stderr, "usage: {} {}\n", c.prog, populate_usage);
        return 2;
    };
    Getopt g(args, "F:u:g:m:M:");
    for (int opt; (opt = g.next()) != -1;) {
        switch (opt) {
        case 'F': spec = g.arg(); break;
        case 'u':
            if (!(uid = parse_user(g.arg()))) {
                c.warnx("{}: unknown user", g.arg());
                return 2;
            }
            break;
        case 'g':
            if (!(gid = parse_group(g.arg()))) {
                c.warnx("{}: unknown group", g.arg());
                return 2;
            }
            break;
        case 'm':
        case 'M':
            if (auto m = parse_octal(g.arg()))
                (opt == 'm' ? file_mode : dir_mode) = *m;
            else
                return usage();
            break;
        default: return usage();
        }
    }
    const std::vector<std::string> ops = g.operands();
    if (ops.empty() || ops.size() > 2)
        return usage();
    const std::string target = ops.size() == 2 ? ops[1] : "/";
    const int root = ::open(ops[0].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        c.fail_errno(ops[0], errno);
        return 1;
    }
    Plan plan;
    bool ok = plan_source(c, root, "", plan);
    // The command line's owners and modes apply to the source; the spec has the last word.
    for (auto& [path, n] : plan) {
        if (uid)
            n.uid = *uid;
        if (gid)
            n.gid = *gid;
        if (S_ISDIR(n.mode) && dir_mode)
            n.mode = (n.mode & S_IFMT) | *dir_mode;
        else if (!S_ISDIR(n.mode) && !S_ISLNK(n.mode) && file_mode)
            n.mode = (n.mode & S_IFMT) | *file_mode;
    }
    if (ok && !spec.empty())
        ok = plan_spec(c, spec, root, plan);
    const std::optional<std::int64_t> clamp = source_date_epoch();
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    if (clamp)
        now = {*clamp, 0};
    // The first name of a multiply-linked file in the plan's order is made; the others link.
    std::map<std::pair<dev_t, ino_t>, std::string> first_names;
    for (auto& [path, n] : plan) {
        if (n.mtime.tv_nsec < 0)  // a spec entry without a time and without a source file
            n.mtime = now;
        if (clamp && n.mtime.tv_sec >= *clamp)
            n.mtime = {*clamp, 0};
        if (n.source_id != std::pair<dev_t, ino_t>{}) {
            auto [it, fresh] = first_names.try_emplace(n.source_id, path);
            if (!fresh)
                n.hardlink = it->second;
        }
    }
    if (ok) {
        if (auto st = c.mnt->stat(target); !st) {
            c.fail(target, st.error());
            ok = false;
        } else if (!S_ISDIR(st->st_mode)) {
            c.fail_errno(target, ENOTDIR);
            ok = false;
        }
    }
    const std::string base = target == "/" ? "" : target;
    ProgressScope progress;
    // Make everything, parents first; a failure skips what lies below it.
    std::string failed_dir;
    for (const auto& [path, n] : plan) {
        if (!ok)
            break;
        if (!failed_dir.empty() && path.starts_with(failed_dir + "/"))
            continue;
        if (!make_node(c, root, base, base + path, n) && S_ISDIR(n.mode))
            failed_dir = path;
    }
    // Times last, deepest first.
    for (auto it = plan.rbegin(); ok && it != plan.rend(); ++it) {
        const Node& n = it->second;
        if (!n.hardlink.empty())
            continue;
        auto r = c.mnt->utimes(base + it->first, n.mtime, n.mtime, uk::Follow::no);
        if (!r && !(S_ISLNK(n.mode) && r.error().errnum() == EOPNOTSUPP))
            c.fail(base + it->first, r.error());
    }
    ::close(root);
    if (!ok)
        c.status = 1;
    return c.status;
}

const char* const populate_usage =
    "[-F specfile] [-u user] [-g group] [-m filemode] [-M dirmode] SOURCE_DIR [target]\n"
    "           copy a host tree into the image (at target, default /) as makefs does:\n"
    "           owners, modes, times, hard links, symlinks, devices, FIFOs and extended\n"
    "           attributes (where the type holds them) kept, or owners and modes set by\n"
    "           -u/-g/-m/-M or an mtree(5) spec (-F), whose entries may add paths the source\n"
    "           lacks (contents= files read beneath SOURCE_DIR); entries in a fixed order; times\n"
    "           clamped to SOURCE_DATE_EPOCH. With it and -o seed=N, the same bytes every run.";

}  // namespace fsu
