// ukfs: the C++ interface, the one we recommend. RAII mounts and descriptors, Result<T> errors
// (an errno and a message naming what went wrong), spans and string views, directories as
// ranges. Thread-safe: one Mount may be used from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include <ukfs/result.hpp>

namespace uk {

namespace vfs {
class Mount;
}

struct MountOptions {
    std::string type;  // "ffs", "ext2fs", "msdos", "cd9660", "tmpfs"...; "" detects
    bool read_only = false;
    int flags = 0;               // further NetBSD MNT_* flags
    const void* args = nullptr;  // the type's NetBSD argument structure, or null
    std::size_t args_len = 0;
    std::size_t cache_bytes = std::size_t{64} << 20;
    // Reproducible writes: every time a write stamps as "now" is `time` when given (the host's
    // clock otherwise), and what a driver would draw at random (inode generation numbers)
    // starts from `seed` when given.
    std::optional<timespec> time{};
    std::optional<std::uint64_t> seed{};
    // The type's own options, `key=value` or a bare `key` (value ""): ffs takes `backup` and
    // `sb=N` (see fsu(1)). A key the type does not take is EINVAL.
    std::vector<std::pair<std::string, std::string>> fs_options = {};
};

struct DirEntry {
    std::string name;
    std::uint64_t ino = 0;
    unsigned char type = 0;  // DT_* (DT_REG, DT_DIR...)
};

struct FsStats {
    std::uint64_t block_size = 0, blocks = 0, blocks_free = 0, blocks_avail = 0;
    std::uint64_t files = 0, files_free = 0, name_max = 0;
};

enum class Follow { yes, no };

class File;
class Dir;

class Mount {
public:
    // Mount `device`: an image or block device path, with an optional partition selector at
    // its end ("disk.img%GPT:2%", see docs/partitions.md). Types that need no device (tmpfs)
    // ignore it.
    static Result<Mount> open(std::string_view device, const MountOptions& options = {});

    Mount(Mount&&) noexcept;
    Mount& operator=(Mount&&) noexcept;
    ~Mount();  // releases; errors are lost: call release() to see them

    // Unmount cleanly: EBUSY while files are open, unless `force`.
    Result<void> release(bool force = false);

    const std::string& type() const;
    bool read_only() const;

    Result<struct stat> stat(std::string_view path, Follow follow = Follow::yes) const;
    Result<std::size_t> read(std::string_view path, std::uint64_t offset,
                             std::span<std::byte> buffer) const;
    // The whole file.
    Result<std::vector<std::byte>> read_file(std::string_view path) const;
    Result<std::size_t> write(std::string_view path, std::uint64_t offset,
                              std::span<const std::byte> data);
    Result<void> truncate(std::string_view path, std::uint64_t size);
    Result<std::string> readlink(std::string_view path) const;
    Result<std::vector<DirEntry>> list(std::string_view path) const;
    Result<Dir> opendir(std::string_view path) const;
    // flags are the host's O_* flags; O_CREAT uses `mode`.
    Result<File> open_file(std::string_view path, int flags, std::uint32_t mode = 0644);

    Result<void> create(std::string_view path, std::uint32_t mode, bool exclusive = false);
    Result<void> mkdir(std::string_view path, std::uint32_t mode = 0755);
    Result<void> mknod(std::string_view path, std::uint32_t mode, std::uint64_t rdev = 0);
    Result<void> symlink(std::string_view target, std::string_view path);
    Result<void> link(std::string_view existing, std::string_view path);
    Result<void> remove(std::string_view path);
    Result<void> rmdir(std::string_view path);
    Result<void> rename(std::string_view from, std::string_view to);
    Result<void> chdir(std::string_view path);
    Result<void> chmod(std::string_view path, std::uint32_t mode, Follow follow = Follow::yes);
    Result<void> chown(std::string_view path, std::optional<std::uint32_t> uid,
                       std::optional<std::uint32_t> gid, Follow follow = Follow::yes);
    Result<void> chflags(std::string_view path, std::uint32_t flags, Follow follow = Follow::yes);
    // The file's chflags(2) flags (UF_*, SF_*), for which the host's struct stat has no room.
    Result<std::uint32_t> flags(std::string_view path, Follow follow = Follow::yes) const;
    // nullopt means now.
    Result<void> utimes(std::string_view path, std::optional<timespec> atime,
                        std::optional<timespec> mtime, Follow follow = Follow::yes);
    Result<FsStats> statfs() const;
    Result<void> sync();
    // Extended attributes by full name ("user.note", "security.selinux"...): ENOTSUP where
    // the type has none, ENODATA for a name not set. `create`/`replace` as setxattr(2)'s
    // XATTR_CREATE/XATTR_REPLACE.
    enum class XattrMode { any, create, replace };
    Result<std::vector<std::string>> list_xattrs(std::string_view path,
                                                 Follow follow = Follow::yes) const;
    Result<std::vector<std::byte>> get_xattr(std::string_view path, std::string_view name,
                                             Follow follow = Follow::yes) const;
    Result<void> set_xattr(std::string_view path, std::string_view name,
                           std::span<const std::byte> value, XattrMode mode = XattrMode::any,
                           Follow follow = Follow::yes);
    Result<void> remove_xattr(std::string_view path, std::string_view name,
                              Follow follow = Follow::yes);
    // The file system's superblock and geometry as (name, value) pairs, as dumpe2fs -h or
    // fsstat show them: the type's own fields, in its order.
    Result<std::vector<std::pair<std::string, std::string>>> info() const;
    // Act as this user from now on (root by default, as NetBSD's libukfs).
    void set_credentials(std::uint32_t uid, std::uint32_t gid,
                         std::vector<std::uint32_t> groups = {});

private:
    explicit Mount(std::shared_ptr<vfs::Mount> m) : m_mount(std::move(m)) {}
    std::shared_ptr<vfs::Mount> m_mount;
};

// An open file of a mount; closed by its destructor.
class File {
public:
    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    ~File();

    Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> buffer) const;
    Result<std::size_t> write(std::uint64_t offset, std::span<const std::byte> data,
                              bool sync = false);
    Result<struct stat> stat() const;
    // ftruncate(2): the file must be open for writing.
    Result<void> truncate(std::uint64_t size);
    Result<void> close();
    int descriptor() const { return m_fd; }

private:
    friend class Mount;
    friend class Dir;
    File(std::shared_ptr<vfs::Mount> m, int fd) : m_mount(std::move(m)), m_fd(fd) {}
    std::shared_ptr<vfs::Mount> m_mount;
    int m_fd = -1;
};

// A directory as an input range of DirEntry, read in batches. An error met while iterating
// ends the range; error() then tells it.
class Dir {
public:
    class iterator {
    public:
        using value_type = DirEntry;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        const DirEntry& operator*() const;
        const DirEntry* operator->() const { return &**this; }
        iterator& operator++();
        void operator++(int) { ++*this; }
        bool operator==(const iterator& o) const { return m_dir == o.m_dir; }

    private:
        friend class Dir;
        explicit iterator(Dir* d) : m_dir(d) {}
        Dir* m_dir = nullptr;
    };

    iterator begin();
    iterator end() { return iterator(); }
    const std::optional<Error>& error() const { return m_error; }

private:
    friend class Mount;
    explicit Dir(File f) : m_file(std::move(f)) {}
    bool fill();
    File m_file;
    std::vector<DirEntry> m_batch;
    std::size_t m_pos = 0;
    std::uint64_t m_cookie = 0;
    bool m_eof = false;
    std::optional<Error> m_error;
};

// Building an ISO 9660 image from a host directory (as `xorriso -as mkisofs -R -J` does):
// Rock Ridge and Joliet trees sharing the file data, hard links sharing one extent, symlinks,
// devices, FIFOs and sockets (Rock Ridge), files of 4 GiB and more as multi-extent files. The
// same tree and options give the same image, byte for byte: with SOURCE_DATE_EPOCH set in the
// environment, later times are recorded as it and it is the volume time.
struct IsoOptions {
    std::string volume_id = "CDROM";
    bool rock_ridge = true;
    bool joliet = true;
    // Owner and mode mapping for images built without privilege (mkisofs' -uid, -gid,
    // -file-mode, -dir-mode; `rational` is its -r: owner 0:0, all readable, no write bits).
    std::optional<std::uint32_t> uid, gid;
    std::optional<std::uint32_t> file_mode, dir_mode;
    bool rational = false;
    // Volume creation time (seconds since the epoch); by default SOURCE_DATE_EPOCH, else the
    // newest modification time in the tree.
    std::optional<std::int64_t> volume_time;
};
Result<void> make_iso(const std::string& source_dir, const std::string& image,
                      const IsoOptions& options = {});

// Making a file system: `device` is an image file or block device, with an optional partition
// selector. A missing image file is created, and a regular file set to `size` bytes, when
// `size` is non-zero. `params` are the type's own key=value settings (fsu(1), mkfs), checked
// by its driver: an unknown one is EINVAL. ENOTSUP for a type that has no mkfs.
struct MkfsOptions {
    std::uint64_t size = 0;
    std::vector<std::pair<std::string, std::string>> params;
};
Result<void> mkfs(std::string_view type, std::string_view device, const MkfsOptions& options = {});

// Checking a file system without writing to it, with the type's own checker (`type` "" detects
// it). `out` receives the report a line at a time; the result is the exit status the type's
// fsck gives (0: clean). ENOTSUP for a type that has no checker.
Result<int> fsck(std::string_view device, std::string_view type,
                 const std::function<void(std::string_view)>& out);

}  // namespace uk
