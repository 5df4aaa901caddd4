// Block devices: where file system bytes live. An image file, a host block device, a memory
// buffer, or a window (a partition) over any of them. Positioned I/O in bytes; a transfer
// either completes or fails (short transfers and EINTR are handled inside).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"

namespace uk::io {

class BlockDevice {
public:
    virtual ~BlockDevice() = default;

    // Read exactly dst.size() bytes at `offset`. Reading past the end is EIO.
    virtual Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) = 0;
    // Write exactly src.size() bytes at `offset`. EROFS on a read-only device; writing past the
    // end is ENOSPC.
    virtual Result<void> write_at(std::uint64_t offset, std::span<const std::byte> src) = 0;
    // Make written data durable.
    virtual Result<void> flush() = 0;

    virtual std::uint64_t size() const = 0;
    virtual bool read_only() const = 0;
    // The smallest transfer unit the medium supports (512 for images).
    virtual std::uint32_t sector_size() const { return 512; }
    // A name for messages: the path, or "memory".
    virtual std::string name() const = 0;
    // The host file descriptor behind this device, or -1 (memory). Used for byte-range locks.
    virtual int fd() const { return -1; }
    // Offset of this device's byte 0 on the host file behind it (a partition's start).
    virtual std::uint64_t host_offset() const { return 0; }
};

// An image file or a host block device, opened read-only or read-write. The size of a block
// device comes from the kernel (BLKGETSIZE64).
class ImageFile final : public BlockDevice {
public:
    static Result<std::unique_ptr<ImageFile>> open(const std::string& path, bool read_only);
    ~ImageFile() override;
    ImageFile(const ImageFile&) = delete;
    ImageFile& operator=(const ImageFile&) = delete;

    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override;
    Result<void> write_at(std::uint64_t offset, std::span<const std::byte> src) override;
    Result<void> flush() override;
    std::uint64_t size() const override { return m_size; }
    bool read_only() const override { return m_read_only; }
    std::uint32_t sector_size() const override { return m_sector_size; }
    std::string name() const override { return m_path; }
    int fd() const override { return m_fd; }

private:
    ImageFile(int fd, std::string path, std::uint64_t size, std::uint32_t sector, bool ro)
        : m_fd(fd), m_path(std::move(path)), m_size(size), m_sector_size(sector), m_read_only(ro) {}
    int m_fd;
    std::string m_path;
    std::uint64_t m_size;
    std::uint32_t m_sector_size;
    bool m_read_only;
};

// A device in memory: tests, fuzzers, and mfs-like uses.
class MemoryDevice final : public BlockDevice {
public:
    explicit MemoryDevice(std::uint64_t size, bool read_only = false);
    explicit MemoryDevice(std::vector<std::byte> bytes, bool read_only = false);

    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override;
    Result<void> write_at(std::uint64_t offset, std::span<const std::byte> src) override;
    Result<void> flush() override { return {}; }
    std::uint64_t size() const override { return m_bytes.size(); }
    bool read_only() const override { return m_read_only; }
    std::string name() const override { return "memory"; }

    std::span<const std::byte> bytes() const { return m_bytes; }

private:
    std::vector<std::byte> m_bytes;
    bool m_read_only;
};

// A window [offset, offset + size) of another device: a partition.
class SliceDevice final : public BlockDevice {
public:
    // Fails with ENXIO when the window reaches past the end of `base`.
    static Result<std::unique_ptr<SliceDevice>> make(std::shared_ptr<BlockDevice> base,
                                                     std::uint64_t offset, std::uint64_t size);

    Result<void> read_at(std::uint64_t offset, std::span<std::byte> dst) override;
    Result<void> write_at(std::uint64_t offset, std::span<const std::byte> src) override;
    Result<void> flush() override { return m_base->flush(); }
    std::uint64_t size() const override { return m_size; }
    bool read_only() const override { return m_base->read_only(); }
    std::uint32_t sector_size() const override { return m_base->sector_size(); }
    std::string name() const override;
    int fd() const override { return m_base->fd(); }
    std::uint64_t host_offset() const override { return m_base->host_offset() + m_offset; }

private:
    SliceDevice(std::shared_ptr<BlockDevice> base, std::uint64_t offset, std::uint64_t size)
        : m_base(std::move(base)), m_offset(offset), m_size(size) {}
    std::shared_ptr<BlockDevice> m_base;
    std::uint64_t m_offset;
    std::uint64_t m_size;
};

// A read-only view in front of `base` (a journal replayed over an image, say): a subclass
// supplies read_at; everything else is the base's, and a write is EROFS with `why`.
class ReadOnlyView : public BlockDevice {
public:
    ReadOnlyView(std::shared_ptr<BlockDevice> base, std::string why)
        : m_base(std::move(base)), m_why(std::move(why)) {}

    Result<void> write_at(std::uint64_t, std::span<const std::byte>) override {
        return Error::sys(EROFS, m_why);
    }
    Result<void> flush() override { return {}; }
    std::uint64_t size() const override { return m_base->size(); }
    bool read_only() const override { return true; }
    std::uint32_t sector_size() const override { return m_base->sector_size(); }
    std::string name() const override { return m_base->name(); }
    int fd() const override { return m_base->fd(); }
    std::uint64_t host_offset() const override { return m_base->host_offset(); }

protected:
    BlockDevice& base() { return *m_base; }

private:
    std::shared_ptr<BlockDevice> m_base;
    std::string m_why;
};

}  // namespace uk::io
