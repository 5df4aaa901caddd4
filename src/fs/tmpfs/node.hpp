// tmpfs nodes: what a file, directory or symlink is made of in memory. Private to the driver.
// Facts from NetBSD sys/fs/tmpfs (tmpfs.h, tmpfs_subr.c, tmpfs_vfsops.c).
//
// Notes:
// - A regular file's data lives in fixed-size pages, one map entry per allocated page; a hole
//   has no entry and reads as zeros. Bytes of an allocated page at or past the file's size are
//   always zero (a shrinking truncate zeroes the tail), so extending a file never shows old
//   data.
// - A directory lists its entries in insertion order. Each entry gets a cookie from a counter
//   that only grows, so a listing resumed at a cookie continues after the entry it stopped at
//   even when entries before it were removed meanwhile. Cookies 0 and 1 are "." and "..".
// - Everything in a node changes only under the mount's exclusive lock, except the access
//   time, which reads (shared lock, many threads) update: it has its own mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <ukfs/netbsd.h>

#include "base/result.hpp"
#include "vfs/vnode.hpp"

namespace uk::tmpfs {

using vfs::InodeNo;
using vfs::VType;

inline constexpr std::size_t page_size = 4096;             // NetBSD's PAGE_SIZE on amd64
inline constexpr std::size_t name_max = 255;               // TMPFS_MAXNAMLEN
inline constexpr std::size_t symlink_max = 1023;           // MAXPATHLEN - 1
inline constexpr std::uint32_t link_max = 32767;           // LINK_MAX
inline constexpr std::uint64_t max_file_size = INT64_MAX;  // the range of off_t
inline constexpr std::uint64_t dirent_size = 32;           // a directory's size per entry
inline constexpr InodeNo root_ino = 2;
inline constexpr std::uint32_t immutable_flags = UF_IMMUTABLE | SF_IMMUTABLE;
inline constexpr std::uint32_t append_flags = UF_APPEND | SF_APPEND;

// The pages a mount may use (ta_size_max), counted without a lock: reads run concurrently
// with statfs, and the counter is cheap to keep atomic.
class PageAccount {
public:
    static constexpr std::uint64_t unlimited = UINT64_MAX;

    explicit PageAccount(std::uint64_t max_pages) : m_max(max_pages) {}

    // Take `n` pages from the budget; false (and nothing taken) when they do not fit.
    bool take(std::uint64_t n);
    void give(std::uint64_t n) { m_used.fetch_sub(n, std::memory_order_relaxed); }
    std::uint64_t used() const { return m_used.load(std::memory_order_relaxed); }
    std::uint64_t max() const { return m_max; }

private:
    const std::uint64_t m_max;
    std::atomic<std::uint64_t> m_used{0};
};

// A regular file's contents: sparse pages.
class FileData {
public:
    std::uint64_t size() const { return m_size; }
    std::uint64_t page_count() const { return m_pages.size(); }

    // Copy bytes at `offset` into `dst`; short at end of file, holes read as zeros.
    std::size_t read(std::uint64_t offset, std::span<std::byte> dst) const;
    // Write `src` at `offset`, allocating pages from `account`. Writes what fits: EFBIG when
    // `offset` is at or past max_file_size, ENOSPC when not one byte fits.
    Result<std::size_t> write(std::uint64_t offset, std::span<const std::byte> src,
                              PageAccount& account);
    // Truncate (freeing the pages past the end, zeroing the tail of the last one) or extend
    // with a hole.
    void resize(std::uint64_t new_size, PageAccount& account);
    // Free every page.
    void release(PageAccount& account);

private:
    using Page = std::array<std::byte, page_size>;

    Page* page_for_write(std::uint64_t index, PageAccount& account);

    std::map<std::uint64_t, std::unique_ptr<Page>> m_pages;  // page index -> data
    std::uint64_t m_size = 0;
};

// One directory entry, as the directory stores it.
struct DirSlot {
    std::uint64_t cookie;  // resumes the listing at this entry
    InodeNo ino;
    VType type;
};

// A directory's entries, by name and in cookie (insertion) order.
class DirData {
public:
    static constexpr std::uint64_t cookie_dot = 0;
    static constexpr std::uint64_t cookie_dotdot = 1;
    static constexpr std::uint64_t first_cookie = 2;

    using Visitor = std::function<bool(std::string_view name, const DirSlot& slot)>;

    std::size_t count() const { return m_by_name.size(); }
    bool empty() const { return m_by_name.empty(); }
    const DirSlot* find(std::string_view name) const;
    // Add `name` (absent) at the end of the listing.
    void insert(std::string_view name, InodeNo ino, VType type);
    // Point the existing entry `name` at another node; it keeps its place in the listing.
    void repoint(std::string_view name, InodeNo ino, VType type);
    void erase(std::string_view name);
    // Visit the entries whose cookie is at least `from`, in order, until `visit` says stop.
    void list(std::uint64_t from, const Visitor& visit) const;

    InodeNo parent = 0;  // ".."; the root is its own parent

private:
    using ByName = std::map<std::string, DirSlot, std::less<>>;

    ByName m_by_name;
    std::map<std::uint64_t, ByName::const_iterator> m_by_cookie;
    std::uint64_t m_next_cookie = first_cookie;
};

// A node: its attributes and, by type, file data, directory entries or a symlink target.
class Node {
public:
    Node(InodeNo number, VType kind, std::uint64_t generation, timespec now)
        : ino(number), type(kind), gen(generation), mtime(now), ctime(now), birthtime(now),
          m_atime(now) {}

    const InodeNo ino;
    const VType type;
    const std::uint64_t gen;
    std::uint32_t mode = 0;  // 07777 bits only
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t nlink = 0;
    std::uint32_t flags = 0;  // chflags(2)
    std::uint64_t rdev = 0;
    timespec mtime, ctime, birthtime;
    bool reclaimed = false;  // freed by reclaim(); the vnode may still point here

    FileData file;       // VType::reg
    DirData dir;         // VType::dir
    std::string target;  // VType::lnk
    std::map<std::string, std::vector<std::byte>, std::less<>> xattrs;

    timespec atime() const;
    void set_atime(timespec t);

    bool immutable() const { return (flags & immutable_flags) != 0; }
    bool append_only() const { return (flags & append_flags) != 0; }
    // Neither changed nor removed: immutable or append-only.
    bool frozen() const { return immutable() || append_only(); }
    void modified(timespec now) { mtime = ctime = now; }

    vfs::Attr attr() const;

private:
    mutable std::mutex m_atime_lock;  // guards m_atime
    timespec m_atime;
};

}  // namespace uk::tmpfs
