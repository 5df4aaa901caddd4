// Block devices: image files and host block devices, memory, slices.
#include "io/block_device.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/checked.hpp"

namespace uk::io {

namespace {

Error io_error(const std::string& name, const char* what, std::uint64_t off, int err) {
    return Error::sys(err, fmt::format("{}: {} at offset {}", name, what, off));
}

Error past_end(const std::string& name, std::uint64_t off, std::uint64_t len, std::uint64_t size,
               int err) {
    return Error::sys(err, fmt::format("{}: {} bytes at offset {} reach past the end ({} bytes)",
                                       name, len, off, size));
}

}  // namespace

Result<std::unique_ptr<ImageFile>> ImageFile::open(const std::string& path, bool read_only) {
    int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return Error::sys(errno, path);
    struct stat st {};
    if (fstat(fd, &st) < 0) {
        int err = errno;
        ::close(fd);
        return Error::sys(err, path);
    }
    std::uint64_t size = 0;
    std::uint32_t sector = 512;
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
            int err = errno;
            ::close(fd);
            return Error::sys(err, path + ": cannot get the block device's size");
        }
        int ssz = 0;
        if (ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz >= 512)
            sector = static_cast<std::uint32_t>(ssz);
    } else if (S_ISREG(st.st_mode)) {
        size = static_cast<std::uint64_t>(st.st_size);
    } else {
        ::close(fd);
        return Error::sys(ENODEV, path + ": not a regular file or a block device");
    }
    return std::unique_ptr<ImageFile>(new ImageFile(fd, path, size, sector, read_only));
}

ImageFile::~ImageFile() { ::close(m_fd); }

Result<void> ImageFile::read_at(std::uint64_t offset, std::span<std::byte> dst) {
    if (!range_fits(offset, dst.size(), m_size))
        return past_end(m_path, offset, dst.size(), m_size, EIO);
    std::size_t done = 0;
    while (done < dst.size()) {
        ssize_t n = ::pread(m_fd, dst.data() + done, dst.size() - done,
                            static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(m_path, "read failed", offset + done, errno);
        }
        if (n == 0)  // the file shrank under us
            return io_error(m_path, "unexpected end of file", offset + done, EIO);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> ImageFile::write_at(std::uint64_t offset, std::span<const std::byte> src) {
    if (m_read_only)
        return Error::sys(EROFS, m_path + ": opened read-only");
    if (!range_fits(offset, src.size(), m_size))
        return past_end(m_path, offset, src.size(), m_size, ENOSPC);
    std::size_t done = 0;
    while (done < src.size()) {
        ssize_t n = ::pwrite(m_fd, src.data() + done, src.size() - done,
                             static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(m_path, "write failed", offset + done, errno);
        }
        if (n == 0)
            return io_error(m_path, "write made no progress", offset + done, EIO);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> ImageFile::flush() {
    if (m_read_only)
        return {};
    if (::fdatasync(m_fd) < 0 && errno != EINVAL)  // EINVAL: the file does not support syncing
        return Error::sys(errno, m_path + ": fdatasync failed");
    return {};
}

MemoryDevice::MemoryDevice(std::uint64_t size, bool read_only)
    : m_bytes(size), m_read_only(read_only) {}

MemoryDevice::MemoryDevice(std::vector<std::byte> bytes, bool read_only)
    : m_bytes(std::move(bytes)), m_read_only(read_only) {}

Result<void> MemoryDevice::read_at(std::uint64_t offset, std::span<std::byte> dst) {
    if (!range_fits(offset, dst.size(), m_bytes.size()))
        return past_end(name(), offset, dst.size(), m_bytes.size(), EIO);
    if (!dst.empty())
        std::memcpy(dst.data(), m_bytes.data() + offset, dst.size());
    return {};
}

Result<void> MemoryDevice::write_at(std::uint64_t offset, std::span<const std::byte> src) {
    if (m_read_only)
        return Error::sys(EROFS, "memory device is read-only");
    if (!range_fits(offset, src.size(), m_bytes.size()))
        return past_end(name(), offset, src.size(), m_bytes.size(), ENOSPC);
    if (!src.empty())
        std::memcpy(m_bytes.data() + offset, src.data(), src.size());
    return {};
}

Result<std::unique_ptr<SliceDevice>> SliceDevice::make(std::shared_ptr<BlockDevice> base,
                                                       std::uint64_t offset, std::uint64_t size) {
    if (!range_fits(offset, size, base->size()))
        return Error::sys(ENXIO, fmt::format("{}: partition at byte {} of {} bytes reaches past "
                                             "the end of the image ({} bytes)",
                                             base->name(), offset, size, base->size()));
    return std::unique_ptr<SliceDevice>(new SliceDevice(std::move(base), offset, size));
}

Result<void> SliceDevice::read_at(std::uint64_t offset, std::span<std::byte> dst) {
    if (!range_fits(offset, dst.size(), m_size))
        return past_end(name(), offset, dst.size(), m_size, EIO);
    return m_base->read_at(m_offset + offset, dst);
}

Result<void> SliceDevice::write_at(std::uint64_t offset, std::span<const std::byte> src) {
    if (!range_fits(offset, src.size(), m_size))
        return past_end(name(), offset, src.size(), m_size, ENOSPC);
    return m_base->write_at(m_offset + offset, src);
}

std::string SliceDevice::name() const {
    return fmt::format("{}@{}", m_base->name(), m_offset);
}

}  // namespace uk::io
