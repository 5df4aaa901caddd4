// The driver interface: what a file system driver implements. A driver answers operations on
// one node and single-component lookups; path resolution, caching, locking, descriptors and
// credentials live in the VFS (src/vfs), once for all drivers.
//
// Locking contract: every call here is made with the mount's lock held, shared for the
// operations marked (shared) and exclusive for the others. Drivers lock nothing of the mount;
// under a shared lock several threads may call the (shared) operations at once, so those must
// not change shared driver state except through thread-safe means (the buffer cache, or the
// driver's own small mutex for things like access times).
#pragma once

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/time.hpp"

namespace uk::vfs {

using InodeNo = std::uint64_t;

enum class VType : std::uint8_t { none, reg, dir, lnk, blk, chr, fifo, sock };

// The mode's file type bits for a VType, and back (S_IFREG...).
std::uint32_t vtype_to_ifmt(VType t);
VType ifmt_to_vtype(std::uint32_t mode);

// Attributes of a node, as struct vattr carries them.
struct Attr {
    VType type = VType::none;
    std::uint32_t mode = 0;  // permission bits and set-id/sticky bits only (07777)
    std::uint32_t nlink = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    InodeNo ino = 0;
    std::uint64_t size = 0;
    std::uint64_t blocks = 0;  // 512-byte units allocated
    std::uint32_t blksize = 4096;
    std::uint64_t rdev = 0;  // host dev_t encoding (makedev)
    timespec atime{}, mtime{}, ctime{}, birthtime{};
    std::uint32_t flags = 0;  // NetBSD chflags(2) flags (UF_*, SF_*)
    std::uint64_t gen = 0;
};

// A change of attributes; only the fields that are set change.
struct SetAttr {
    std::optional<std::uint32_t> mode;
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
    std::optional<std::uint64_t> size;
    std::optional<timespec> atime;
    std::optional<timespec> mtime;
    std::optional<timespec> birthtime;
    std::optional<std::uint32_t> flags;
};

// What a new node is made of (create, mkdir, mknod, mkfifo).
struct NewNode {
    VType type = VType::reg;
    std::uint32_t mode = 0644;  // permission bits
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t rdev = 0;
};

// One directory entry as readdir reports it.
struct DirEntry {
    InodeNo ino;
    VType type;
    std::string_view name;
};

// Called per entry; `next` is the cookie that resumes the listing after this entry. Return
// false to stop.
using DirVisitor = std::function<bool(const DirEntry& entry, std::uint64_t next)>;

struct StatFs {
    std::uint64_t bsize = 0;   // fundamental block size
    std::uint64_t iosize = 0;  // optimal transfer size
    std::uint64_t blocks = 0, bfree = 0, bavail = 0;
    std::uint64_t files = 0, ffree = 0;
    std::uint64_t namemax = 255;
};

// How setxattr treats an existing name (setxattr(2)'s flags).
enum class XattrSet { any, create, replace };

class Vnode {
public:
    virtual ~Vnode() = default;

    virtual InodeNo ino() const = 0;
    virtual VType type() const = 0;

    // (shared)
    virtual Result<Attr> getattr() = 0;
    // Change attributes. A size change truncates or extends with a hole. The VFS has already
    // checked permissions and updated nothing; the driver sets ctime as POSIX says.
    virtual Result<void> setattr(const SetAttr& changes) = 0;

    // Directories. `name` is one component: never empty, never "." and never containing '/'.
    // ".." is asked for only when this directory is not the mount's root. (shared)
    virtual Result<InodeNo> lookup(std::string_view name) = 0;
    // List entries from `cookie` (0 starts; a `next` given to the visitor resumes). The driver
    // reports "." and ".." first. (shared)
    virtual Result<void> readdir(std::uint64_t cookie, const DirVisitor& visit) = 0;
    // Make a new entry `name` (not present: the VFS checked) for a new node.
    virtual Result<InodeNo> create(std::string_view name, const NewNode& node) = 0;
    virtual Result<InodeNo> symlink(std::string_view name, std::string_view target,
                                    const NewNode& node) = 0;
    // Add an entry `name` for the existing non-directory `target`.
    virtual Result<void> link(std::string_view name, Vnode& target) = 0;
    // Remove the entry `name` to a non-directory node (`child`, already looked up).
    virtual Result<void> remove(std::string_view name, Vnode& child) = 0;
    // Remove the entry `name` to the empty directory `child` (the driver checks emptiness).
    virtual Result<void> rmdir(std::string_view name, Vnode& child) = 0;
    // Move entry `name` (node `child`) of this directory to `to_name` in `to_dir`, replacing
    // `replaced` when that entry exists (the VFS checked the POSIX rules: types match, a
    // replaced directory is empty (the driver verifies), no directory moved below itself).
    virtual Result<void> rename(std::string_view name, Vnode& child, Vnode& to_dir,
                                std::string_view to_name, Vnode* replaced) = 0;

    // Regular files. read returns the number of bytes read (short at end of file). (shared)
    virtual Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> dst) = 0;
    virtual Result<std::size_t> write(std::uint64_t offset, std::span<const std::byte> src) = 0;

    // Symbolic links. (shared)
    virtual Result<std::string> readlink() = 0;

    // Extended attributes, by full name ("user.x", "security.selinux",
    // "system.posix_acl_access"...). A type without them answers ENOTSUP. getxattr: ENODATA
    // for a name that is not set. (list, get: shared)
    virtual Result<std::vector<std::string>> listxattr() { return Error::sys(ENOTSUP); }
    virtual Result<std::vector<std::byte>> getxattr(std::string_view) {
        return Error::sys(ENOTSUP);
    }
    // `how`: XattrSet. EEXIST (create) or ENODATA (replace) when the name's presence is wrong.
    virtual Result<void> setxattr(std::string_view, std::span<const std::byte>, XattrSet) {
        return Error::sys(ENOTSUP);
    }
    virtual Result<void> removexattr(std::string_view) { return Error::sys(ENOTSUP); }
};

// What a mount stamps as "now" and where it starts what it would otherwise draw at random
// (inode generation numbers). Both given, the same operations write the same bytes: a fixed
// time replaces the host's clock for every time a write sets, and the seed replaces the
// random source. Unset, they are the host's clock and a random start.
struct Clock {
    std::optional<timespec> fixed{};
    std::optional<std::uint64_t> seed{};

    timespec now() const { return fixed ? *fixed : uk::now(); }
    // A 32-bit start for a counter, from the seed (mixed, so that near seeds give far starts)
    // or from `fallback` when there is none.
    std::uint32_t start(std::uint32_t fallback) const {
        if (!seed)
            return fallback;
        std::uint64_t z = *seed + 0x9E3779B97F4A7C15u;  // splitmix64's finaliser
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        return static_cast<std::uint32_t>(z ^ (z >> 31));
    }
};

struct InfoField {
    std::string name;
    std::string value;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;

    virtual InodeNo root() const = 0;
    // Make a vnode for an inode number that a lookup or readdir returned. The VFS keeps one
    // vnode per inode in its cache, so this is called once per node while it is in use.
    // (shared: must be thread-safe against itself)
    virtual Result<std::unique_ptr<Vnode>> load(InodeNo ino) = 0;
    // The VFS drops its last reference to `node`, whose link count is zero: free it.
    virtual Result<void> reclaim(Vnode& node) = 0;

    virtual Result<StatFs> statfs() = 0;  // (shared)
    // The superblock and geometry as `name: value` lines, in the order a reader expects (as
    // dumpe2fs -h or fsstat show them). Names are snake_case words; values are plain text.
    // (shared)
    virtual Result<std::vector<InfoField>> info() { return std::vector<InfoField>{}; }
    // Write everything back to the device.
    virtual Result<void> sync() = 0;
    // Write everything back and mark the file system clean; nothing is called after this.
    virtual Result<void> unmount() = 0;
    virtual bool read_only() const = 0;
    // Whether the mount's credentials are root's (Mount::set_cred tells; a mount starts as
    // root). FFS lets only root allocate from its reserve (fs_minfree), as NetBSD's does.
    virtual void set_caller_root(bool root) { (void)root; }
};

}  // namespace uk::vfs
