// A mounted file system: every operation of the C and C++ APIs on paths and descriptors.
// Paths are resolved here, once for all drivers, and never leave the mount: ".." at the root
// stays at the root, an absolute symlink target starts again at the mount's root, and more
// than max_symlinks links in one resolution end in ELOOP.
//
// Locking: one reader-writer lock per mount (m_lock). Operations that only read take it
// shared, so many threads read at once; operations that change anything take it exclusive.
// Drivers lock nothing of the mount (see vnode.hpp). The caches and the descriptor table lock
// internally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "vfs/cred.hpp"
#include "vfs/fd_table.hpp"
#include "vfs/vnode.hpp"
#include "vfs/vnode_cache.hpp"

namespace uk::vfs {

inline constexpr std::size_t max_path = 1024;  // NetBSD's PATH_MAX, with the NUL
inline constexpr std::size_t max_name = 255;   // NetBSD's NAME_MAX
inline constexpr int max_symlinks = 32;        // NetBSD's MAXSYMLINKS

enum class Follow { yes, no };

// What a mount holds besides its file system and keeps until release: the device and its lock.
struct MountResources {
    virtual ~MountResources() = default;
};

class Mount {
public:
    // Takes the file system a driver mounted; fails when its root cannot be loaded.
    static Result<std::unique_ptr<Mount>> create(std::unique_ptr<FileSystem> fs, std::string type,
                                                 int flags,
                                                 std::unique_ptr<MountResources> resources = {});
    ~Mount();
    Mount(const Mount&) = delete;
    Mount& operator=(const Mount&) = delete;

    const std::string& type() const { return m_type; }
    int flags() const { return m_flags; }
    // The time utimes() stamps as "now" (the driver's own stamps follow the MountRequest's).
    void set_clock(Clock clock) { m_clock = clock; }
    bool read_only() const { return m_fs->read_only(); }
    FileSystem& fs() { return *m_fs; }
    void set_cred(Cred cred);
    Cred cred() const;

    // Paths: relative ones start at the working directory.
    Result<Attr> stat(std::string_view path, Follow follow);
    Result<void> chdir(std::string_view path);
    Result<std::string> readlink(std::string_view path);
    Result<void> readdir(std::string_view path, std::uint64_t cookie, const DirVisitor& visit);
    Result<std::size_t> read(std::string_view path, std::uint64_t off, std::span<std::byte> dst);
    // Writes into an existing regular file.
    Result<std::size_t> write(std::string_view path, std::uint64_t off,
                              std::span<const std::byte> src);
    Result<void> truncate(std::string_view path, std::uint64_t size);

    // Creates a regular file; EEXIST when the name exists and `exclusive`, otherwise an
    // existing regular file is left as it is.
    Result<void> create(std::string_view path, std::uint32_t mode, bool exclusive);
    Result<void> mkdir(std::string_view path, std::uint32_t mode);
    Result<void> mknod(std::string_view path, std::uint32_t mode, std::uint64_t rdev);
    Result<void> symlink(std::string_view target, std::string_view path);
    Result<void> link(std::string_view existing, std::string_view path);
    Result<void> remove(std::string_view path);
    Result<void> rmdir(std::string_view path);
    Result<void> rename(std::string_view from, std::string_view to);

    Result<void> chmod(std::string_view path, std::uint32_t mode, Follow follow);
    Result<void> chown(std::string_view path, std::optional<std::uint32_t> uid,
                       std::optional<std::uint32_t> gid, Follow follow);
    Result<void> chflags(std::string_view path, std::uint32_t flags, Follow follow);
    // nullopt for a time means "now".
    Result<void> utimes(std::string_view path, std::optional<timespec> atime,
                        std::optional<timespec> mtime, Follow follow);

    // Descriptors (flags are the host's O_* values).
    Result<int> open(std::string_view path, int flags, std::uint32_t mode = 0644);
    Result<std::size_t> read_fd(int fd, std::uint64_t off, std::span<std::byte> dst);
    Result<std::size_t> write_fd(int fd, std::uint64_t off, std::span<const std::byte> src,
                                 bool sync);
    Result<Attr> fstat(int fd);
    // ftruncate(2): the descriptor must be open for writing (EINVAL otherwise, as Linux).
    Result<void> truncate_fd(int fd, std::uint64_t size);
    // List a directory opened with open(); cookies as readdir's.
    Result<void> readdir_fd(int fd, std::uint64_t cookie, const DirVisitor& visit);
    Result<void> close(int fd);
    std::size_t open_files() const { return m_fds.count(); }

    // Extended attributes (xattr.cpp). Reading a user.* name needs read permission, writing
    // it write permission, on a regular file or directory only; other namespaces are root's
    // to write, and trusted.* root's to read.
    Result<std::vector<std::string>> listxattr(std::string_view path, Follow follow);
    Result<std::vector<std::byte>> getxattr(std::string_view path, std::string_view name,
                                            Follow follow);
    Result<void> setxattr(std::string_view path, std::string_view name,
                          std::span<const std::byte> value, XattrSet how, Follow follow);
    Result<void> removexattr(std::string_view path, std::string_view name, Follow follow);

    Result<StatFs> statfs();
    Result<std::vector<InfoField>> info();
    Result<void> sync();
    // Unmount: EBUSY while descriptors are open unless `force`. After success the mount is
    // dead: every call fails with EIO... and the caller destroys it.
    Result<void> unmount(bool force);
    // Release without the file system's clean unmount (UKFS_RELFLAG_NOUNMOUNT): written back,
    // but not marked clean.
    Result<void> release_without_unmount();

private:
    Mount(std::unique_ptr<FileSystem> fs, std::string type, int flags,
          std::unique_ptr<MountResources> resources);

    struct Parent {
        VnodeRef dir;
        std::string name;  // the last component; "" when the path names the root itself
        bool trailing_slash = false;
    };

    // Path resolution, called with m_lock held.
    Result<VnodeRef> resolve(std::string_view path, Follow follow);
    Result<Parent> resolve_parent(std::string_view path);
    Result<VnodeRef> walk(VnodeRef start, std::string_view path, Follow follow_last, int& links,
                          Parent* parent_out);
    Result<VnodeRef> lookup_child(VnodeRef dir, std::string_view name);
    Result<VnodeRef> child_or_null(Parent& p);
    Result<VnodeRef> start_for(std::string_view path);
    // EACCES unless the mount's credentials may access `node` as `want` (Access bits). Root
    // needs no attributes for that except to execute a non-directory, so path walks as root
    // cost no getattr per component.
    Result<void> may(Vnode& node, unsigned want);
    Result<void> check_alive() const;
    Result<void> check_writable() const;
    Result<void> make_node(std::string_view path, const NewNode& node);
    // Make `p.name` in `p.dir` (checked absent) as the mount's user, in the directory's group.
    Result<InodeNo> create_in(Parent& p, const NewNode& proto);
    Result<void> set_attr(std::string_view path, Follow follow, const SetAttr& changes,
                          bool owner_only);
    Result<void> after_unlink(Vnode& node);
    Result<void> clear_setid_on_write(Vnode& node);
    Result<bool> is_ancestor(Vnode& maybe_ancestor, VnodeRef dir);
    Result<void> sync_locked();

    std::unique_ptr<FileSystem> m_fs;
    std::string m_type;
    int m_flags;
    Clock m_clock;
    std::unique_ptr<MountResources> m_resources;

    mutable std::shared_mutex m_lock;  // the mount lock: see the header comment
    VnodeCache m_vnodes;
    NameCache m_names;
    FdTable m_fds;
    VnodeRef m_root;      // guarded by m_lock (set once)
    VnodeRef m_cwd;       // guarded by m_lock
    Cred m_cred;          // guarded by m_lock
    bool m_dead = false;  // guarded by m_lock
};

}  // namespace uk::vfs
