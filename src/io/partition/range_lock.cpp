// Byte-range locks (see range_lock.hpp for why OFD locks). Facts: fcntl(2) "Open file
// description locks (non-POSIX)": F_OFD_SETLK fails with EAGAIN or EACCES on a conflict, l_pid
// must be 0 on input, F_OFD_GETLK returns l_pid -1 for an OFD lock. proc(5), /proc/pid/fdinfo:
// each lock of the description shows as "lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:1234 0 EOF"
// (the /proc/locks line: kind, mode, pid, major:minor:inode with the numbers in hex, hex,
// decimal, first and last byte or EOF), and a blocked waiter's line has "->" after the id.
// Checked on Linux 6.18: an OFD lock shows pid -1 in /proc/locks, so only fdinfo places it.
#include "io/partition/range_lock.hpp"

#include <cerrno>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

namespace uk::io {

namespace {

constexpr std::uint64_t max_off = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());
constexpr std::size_t max_fdinfo_bytes = 64 * 1024;

struct flock lock_request(short type, Extent range) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(range.offset);
    fl.l_len = static_cast<off_t>(range.size);
    fl.l_pid = 0;  // required for OFD locks
    return fl;
}

// One "lock:" line of an fdinfo file.
struct LockLine {
    std::string_view kind;  // OFDLCK, POSIX, FLOCK, LEASE, ...
    bool write = false;
    unsigned dev_major = 0;
    unsigned dev_minor = 0;
    std::uint64_t ino = 0;
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive; "EOF" reads as the largest value
};

template <class T>
bool parse_int(std::string_view s, T& out, int base = 10) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc{} && p == s.data() + s.size();
}

std::vector<std::string_view> split_ws(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t')
            ++j;
        if (j > i)
            out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

bool parse_devino(std::string_view s, LockLine& l) {
    const std::size_t c1 = s.find(':');
    const std::size_t c2 = c1 == std::string_view::npos ? c1 : s.find(':', c1 + 1);
    if (c2 == std::string_view::npos)
        return false;
    return parse_int(s.substr(0, c1), l.dev_major, 16) &&
           parse_int(s.substr(c1 + 1, c2 - c1 - 1), l.dev_minor, 16) &&
           parse_int(s.substr(c2 + 1), l.ino);
}

// "1: OFDLCK ADVISORY  WRITE -1 fe:00:10952837 512 1535" (after "lock:").
std::optional<LockLine> parse_lock_line(std::string_view text) {
    const std::vector<std::string_view> t = split_ws(text);
    if (t.size() < 8 || t[1] == "->")  // short, or a waiter rather than a holder
        return std::nullopt;
    LockLine l;
    l.kind = t[1];
    l.write = t[3] == "WRITE";
    if (!parse_devino(t[5], l) || !parse_int(t[6], l.first))
        return std::nullopt;
    if (t[7] == "EOF")
        l.last = std::numeric_limits<std::uint64_t>::max();
    else if (!parse_int(t[7], l.last))
        return std::nullopt;
    return l;
}

struct Target {
    dev_t dev;
    ino_t ino;
    Extent range;
    bool exclusive;
};

bool conflicts(const LockLine& l, const Target& t) {
    if (l.kind != "OFDLCK" && l.kind != "POSIX")  // flock(2) locks do not meet fcntl's
        return false;
    if (l.dev_major != major(t.dev) || l.dev_minor != minor(t.dev) || l.ino != t.ino)
        return false;
    if (!t.exclusive && !l.write)  // shared locks share
        return false;
    const std::uint64_t last = t.range.offset + t.range.size - 1;
    return l.first <= last && t.range.offset <= l.last;
}

std::string read_small_file(const std::string& path) {
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return out;
    char buf[4096];
    while (out.size() < max_fdinfo_bytes) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

bool fdinfo_conflicts(const std::string& path, const Target& t) {
    const std::string text = read_small_file(path);
    constexpr std::string_view prefix = "lock:";
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        if (!line.starts_with(prefix))
            continue;
        if (auto l = parse_lock_line(line.substr(prefix.size())); l && conflicts(*l, t))
            return true;
    }
    return false;
}

// Does process `pid` hold a conflicting lock through one of its descriptors?
bool process_holds(const std::string& pid, const Target& t, int skip1, int skip2) {
    const std::string dir = "/proc/" + pid + "/fdinfo";
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return false;  // gone, or not ours to look at
    bool found = false;
    while (const dirent* e = ::readdir(d)) {
        int fd = -1;
        if (!parse_int(std::string_view(e->d_name), fd) || fd == skip1 || fd == skip2)
            continue;
        if (fdinfo_conflicts(dir + "/" + e->d_name, t)) {
            found = true;
            break;
        }
    }
    ::closedir(d);
    return found;
}

pid_t scan_proc(const Target& t, int skip1, int skip2) {
    const pid_t self = ::getpid();
    if (process_holds("self", t, skip1, skip2))
        return self;
    DIR* d = ::opendir("/proc");
    if (!d)
        return 0;
    pid_t holder = 0;
    while (const dirent* e = ::readdir(d)) {
        pid_t pid = 0;
        if (!parse_int(std::string_view(e->d_name), pid) || pid == self)
            continue;
        if (process_holds(e->d_name, t, -1, -1)) {
            holder = pid;
            break;
        }
    }
    ::closedir(d);
    return holder;
}

Error lock_error(const BlockDevice& dev, int err, Extent range, bool exclusive, pid_t holder) {
    const std::string what =
        fmt::format("{}: cannot lock bytes {} to {} of the image {}", dev.name(), range.offset,
                    range.offset + range.size - 1, exclusive ? "for writing" : "for reading");
    if (err == EAGAIN || err == EACCES) {
        if (holder > 0)
            return Error::sys(err, fmt::format("{}: held by pid {}", what, holder));
        return Error::sys(err, fmt::format("{}: held by pid unknown (another process)", what));
    }
    if (err == EBADF && exclusive)
        return Error::sys(err, what + ": the image is open read-only");
    return Error::sys(err, what);
}

}  // namespace

pid_t find_lock_holder(int fd, Extent range, bool exclusive, int skip_fd1, int skip_fd2) {
    if (range.size == 0)
        return 0;
    // A classic POSIX lock reports its owner directly; an OFD lock says -1.
    struct flock fl = lock_request(static_cast<short>(exclusive ? F_WRLCK : F_RDLCK), range);
    if (::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
        return fl.l_pid;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return 0;
    return scan_proc(Target{st.st_dev, st.st_ino, range, exclusive}, skip_fd1, skip_fd2);
}

Result<RangeLock> RangeLock::acquire(const BlockDevice& dev, bool exclusive) {
    if (dev.fd() < 0 || dev.size() == 0)
        return RangeLock();
    const Extent range{dev.host_offset(), dev.size()};
    if (range.offset > max_off || range.size > max_off - range.offset)
        return Error::sys(EOVERFLOW, fmt::format("{}: byte range {} + {} does not fit in off_t",
                                                 dev.name(), range.offset, range.size));
    const int fd = ::fcntl(dev.fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return Error::sys(errno, dev.name() + ": cannot duplicate the descriptor to lock it");
    struct flock fl = lock_request(static_cast<short>(exclusive ? F_WRLCK : F_RDLCK), range);
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        const int err = errno;
        const pid_t holder = (err == EAGAIN || err == EACCES)
                                 ? find_lock_holder(fd, range, exclusive, fd, dev.fd())
                                 : 0;
        ::close(fd);
        return lock_error(dev, err, range, exclusive, holder);
    }
    return RangeLock(fd, range, exclusive);
}

RangeLock::RangeLock(RangeLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_range(other.m_range),
      m_exclusive(other.m_exclusive) {}

RangeLock& RangeLock::operator=(RangeLock&& other) noexcept {
    if (this != &other) {
        (void)release();
        m_fd = std::exchange(other.m_fd, -1);
        m_range = other.m_range;
        m_exclusive = other.m_exclusive;
    }
    return *this;
}

RangeLock::~RangeLock() { (void)release(); }

Result<void> RangeLock::release() {
    if (m_fd < 0)
        return {};
    struct flock fl = lock_request(F_UNLCK, m_range);
    const int rc = ::fcntl(m_fd, F_OFD_SETLK, &fl);
    const int err = errno;
    // Closing our duplicate alone would not unlock while the device's descriptor lives.
    ::close(std::exchange(m_fd, -1));
    if (rc != 0)
        return Error::sys(err, fmt::format("cannot unlock bytes {} + {}", m_range.offset,
                                           m_range.size));
    return {};
}

}  // namespace uk::io
