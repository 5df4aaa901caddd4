// The C++ API: a thin facade over vfs::Mount.
#include <ukfs/ukfs.hpp>

#include <fcntl.h>

#include "api/handle.hpp"
#include "vfs/attach.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk {

namespace {

vfs::Follow follow_of(Follow f) {
    return f == Follow::yes ? vfs::Follow::yes : vfs::Follow::no;
}

struct stat to_stat(const vfs::Attr& a, const void* mount) {
    struct stat st;
    api::attr_to_stat(a, reinterpret_cast<std::uintptr_t>(mount), &st);
    return st;
}

unsigned char dtype(vfs::VType t) {
    return static_cast<unsigned char>(vfs::vtype_to_ifmt(t) >> 12);
}

}  // namespace

Result<Mount> Mount::open(std::string_view device, const MountOptions& options) {
    vfs::AttachRequest req;
    req.type = options.type;
    UKFS_TRY(vfs::set_device(req, device));
    req.flags = options.flags | (options.read_only ? vfs::mnt_rdonly : 0);
    req.args = options.args;
    req.args_len = options.args_len;
    req.cache_budget = options.cache_bytes;
    req.clock.fixed = options.time;
    req.clock.seed = options.seed;
    req.params = options.fs_options;
    std::unique_ptr<vfs::Mount> m = UKFS_TRY(vfs::attach(req));
    return Mount(std::shared_ptr<vfs::Mount>(std::move(m)));
}

Mount::Mount(Mount&&) noexcept = default;
Mount& Mount::operator=(Mount&& other) noexcept {
    if (this != &other) {
        if (m_mount)
            (void)m_mount->unmount(true);  // replacing a live mount releases it
        m_mount = std::move(other.m_mount);
    }
    return *this;
}

Mount::~Mount() {
    if (m_mount)
        (void)m_mount->unmount(true);  // errors are lost here; release() reports them
}

Result<void> Mount::release(bool force) {
    if (!m_mount)
        return Error::sys(EINVAL, "the mount was released");
    UKFS_TRY(m_mount->unmount(force));
    m_mount.reset();
    return {};
}

const std::string& Mount::type() const {
    return m_mount->type();
}
bool Mount::read_only() const {
    return m_mount->read_only();
}

Result<struct stat> Mount::stat(std::string_view path, Follow follow) const {
    return to_stat(UKFS_TRY(m_mount->stat(path, follow_of(follow))), m_mount.get());
}

Result<std::uint32_t> Mount::flags(std::string_view path, Follow follow) const {
    return UKFS_TRY(m_mount->stat(path, follow_of(follow))).flags;
}

Result<std::size_t> Mount::read(std::string_view path, std::uint64_t offset,
                                std::span<std::byte> buffer) const {
    return m_mount->read(path, offset, buffer);
}

Result<std::vector<std::byte>> Mount::read_file(std::string_view path) const {
    File f = UKFS_TRY(const_cast<Mount*>(this)->open_file(path, O_RDONLY));
    std::vector<std::byte> out(static_cast<std::size_t>(UKFS_TRY(f.stat()).st_size));
    std::size_t done = 0;
    while (done < out.size()) {
        std::size_t n = UKFS_TRY(f.read(done, std::span(out).subspan(done)));
        if (n == 0)
            break;
        done += n;
    }
    out.resize(done);
    return out;
}

Result<std::size_t> Mount::write(std::string_view path, std::uint64_t offset,
                                 std::span<const std::byte> data) {
    return m_mount->write(path, offset, data);
}

Result<void> Mount::truncate(std::string_view path, std::uint64_t size) {
    return m_mount->truncate(path, size);
}

Result<std::string> Mount::readlink(std::string_view path) const {
    return m_mount->readlink(path);
}

Result<std::vector<DirEntry>> Mount::list(std::string_view path) const {
    std::vector<DirEntry> out;
    UKFS_TRY(m_mount->readdir(path, 0, [&](const vfs::DirEntry& e, std::uint64_t) {
        out.push_back(DirEntry{std::string(e.name), e.ino, dtype(e.type)});
        return true;
    }));
    return out;
}

Result<Dir> Mount::opendir(std::string_view path) const {
    File f = UKFS_TRY(const_cast<Mount*>(this)->open_file(path, O_RDONLY | O_DIRECTORY));
    return Dir(std::move(f));
}

Result<File> Mount::open_file(std::string_view path, int flags, std::uint32_t mode) {
    int fd = UKFS_TRY(m_mount->open(path, flags, mode));
    return File(m_mount, fd);
}

Result<void> Mount::create(std::string_view path, std::uint32_t mode, bool exclusive) {
    return m_mount->create(path, mode, exclusive);
}
Result<void> Mount::mkdir(std::string_view path, std::uint32_t mode) {
    return m_mount->mkdir(path, mode);
}
Result<void> Mount::mknod(std::string_view path, std::uint32_t mode, std::uint64_t rdev) {
    return m_mount->mknod(path, mode, rdev);
}
Result<void> Mount::symlink(std::string_view target, std::string_view path) {
    return m_mount->symlink(target, path);
}
Result<void> Mount::link(std::string_view existing, std::string_view path) {
    return m_mount->link(existing, path);
}
Result<void> Mount::remove(std::string_view path) {
    return m_mount->remove(path);
}
Result<void> Mount::rmdir(std::string_view path) {
    return m_mount->rmdir(path);
}
Result<void> Mount::rename(std::string_view from, std::string_view to) {
    return m_mount->rename(from, to);
}
Result<void> Mount::chdir(std::string_view path) {
    return m_mount->chdir(path);
}
Result<void> Mount::chmod(std::string_view path, std::uint32_t mode, Follow follow) {
    return m_mount->chmod(path, mode, follow_of(follow));
}
Result<void> Mount::chown(std::string_view path, std::optional<std::uint32_t> uid,
                          std::optional<std::uint32_t> gid, Follow follow) {
    return m_mount->chown(path, uid, gid, follow_of(follow));
}
Result<void> Mount::chflags(std::string_view path, std::uint32_t flags, Follow follow) {
    return m_mount->chflags(path, flags, follow_of(follow));
}
Result<void> Mount::utimes(std::string_view path, std::optional<timespec> atime,
                           std::optional<timespec> mtime, Follow follow) {
    return m_mount->utimes(path, atime, mtime, follow_of(follow));
}

Result<std::vector<std::string>> Mount::list_xattrs(std::string_view path, Follow follow) const {
    return m_mount->listxattr(path, follow_of(follow));
}
Result<std::vector<std::byte>> Mount::get_xattr(std::string_view path, std::string_view name,
                                                Follow follow) const {
    return m_mount->getxattr(path, name, follow_of(follow));
}
Result<void> Mount::set_xattr(std::string_view path, std::string_view name,
                              std::span<const std::byte> value, XattrMode mode, Follow follow) {
    const vfs::XattrSet how = mode == XattrMode::create    ? vfs::XattrSet::create
                              : mode == XattrMode::replace ? vfs::XattrSet::replace
                                                           : vfs::XattrSet::any;
    return m_mount->setxattr(path, name, value, how, follow_of(follow));
}
Result<void> Mount::remove_xattr(std::string_view path, std::string_view name, Follow follow) {
    return m_mount->removexattr(path, name, follow_of(follow));
}

Result<std::vector<std::pair<std::string, std::string>>> Mount::info() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (vfs::InfoField& f : UKFS_TRY(m_mount->info()))
        out.emplace_back(std::move(f.name), std::move(f.value));
    return out;
}

Result<FsStats> Mount::statfs() const {
    vfs::StatFs s = UKFS_TRY(m_mount->statfs());
    return FsStats{s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.namemax};
}

Result<void> Mount::sync() {
    return m_mount->sync();
}

void Mount::set_credentials(std::uint32_t uid, std::uint32_t gid,
                            std::vector<std::uint32_t> groups) {
    m_mount->set_cred(vfs::Cred{uid, gid, std::move(groups)});
}

File::File(File&& o) noexcept : m_mount(std::move(o.m_mount)), m_fd(o.m_fd) {
    o.m_fd = -1;
}

File& File::operator=(File&& o) noexcept {
    if (this != &o) {
        (void)close();
        m_mount = std::move(o.m_mount);
        m_fd = o.m_fd;
        o.m_fd = -1;
    }
    return *this;
}

File::~File() {
    (void)close();
}

Result<std::size_t> File::read(std::uint64_t offset, std::span<std::byte> buffer) const {
    return m_mount->read_fd(m_fd, offset, buffer);
}

Result<std::size_t> File::write(std::uint64_t offset, std::span<const std::byte> data, bool sync) {
    return m_mount->write_fd(m_fd, offset, data, sync);
}

Result<struct stat> File::stat() const {
    return to_stat(UKFS_TRY(m_mount->fstat(m_fd)), m_mount.get());
}

Result<void> File::truncate(std::uint64_t size) {
    return m_mount->truncate_fd(m_fd, size);
}

Result<void> File::close() {
    if (!m_mount || m_fd < 0)
        return {};
    int fd = m_fd;
    m_fd = -1;
    return m_mount->close(fd);
}

Dir::iterator Dir::begin() {
    return (m_pos < m_batch.size() || fill()) ? iterator(this) : iterator();
}

const DirEntry& Dir::iterator::operator*() const {
    return m_dir->m_batch[m_dir->m_pos];
}

Dir::iterator& Dir::iterator::operator++() {
    if (++m_dir->m_pos >= m_dir->m_batch.size() && !m_dir->fill())
        m_dir = nullptr;
    return *this;
}

// Read the next batch of entries; false at the end or on an error.
bool Dir::fill() {
    m_batch.clear();
    m_pos = 0;
    if (m_eof)
        return false;
    constexpr std::size_t batch = 256;
    auto r = m_file.m_mount->readdir_fd(
        m_file.m_fd, m_cookie, [&](const vfs::DirEntry& e, std::uint64_t next) {
            m_batch.push_back(DirEntry{std::string(e.name), e.ino, dtype(e.type)});
            m_cookie = next;
            return m_batch.size() < batch;
        });
    if (!r) {
        m_error = r.error();
        m_eof = true;
        return false;
    }
    if (m_batch.size() < batch)
        m_eof = true;
    return !m_batch.empty();
}

}  // namespace uk
