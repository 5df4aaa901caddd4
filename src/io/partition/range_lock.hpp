// Byte-range locks on the image behind a device, so that two mounts of the same partition
// cannot trample each other: NetBSD's libukfs (ukfs.c, process_diskdevice) takes an fcntl lock
// on the partition's bytes, a read lock for a read-only mount and a write lock otherwise, and
// a failure says "held by pid N".
//
// Notes:
// - We use open file description locks (F_OFD_SETLK, Linux 3.15+, fcntl(2)), not classic
//   POSIX locks: classic locks never conflict inside one process and are dropped when the
//   process closes any descriptor of the file. OFD locks belong to the open file description,
//   so two opens of one image conflict even in the same process, and nothing but an unlock or
//   the last close of that description drops them.
// - Conflicts are therefore between separate opens of the image. Two locks taken through one
//   ImageFile share an owner and do not conflict (nor should they: it is one mount's device).
// - The lock keeps its own duplicate of the device's descriptor, so it stays valid, and is
//   released correctly, even if the device is destroyed first.
// - Host block devices are locked too. libukfs skipped them because NetBSD's kernel lets a
//   block device be opened only once; Linux has no such rule, and the lock (on the device
//   node's inode) works the same.
// - F_OFD_GETLK reports l_pid -1 for an OFD lock, so the holder's pid comes from the "lock:"
//   lines of /proc/<pid>/fdinfo/<fd> (proc(5)), which name the description's file by
//   device:inode and byte range. When nothing readable matches, the holder is "unknown".
#pragma once

#include <cstdint>

#include <sys/types.h>

#include "base/result.hpp"
#include "io/block_device.hpp"
#include "io/partition/extent.hpp"

namespace uk::io {

class RangeLock {
public:
    // Not holding anything.
    RangeLock() = default;

    // Lock [dev.host_offset(), dev.host_offset() + dev.size()) on dev.fd(): shared when
    // `exclusive` is false, exclusive otherwise (which needs a device opened read-write). A
    // device without a host file (fd -1) or of size 0 needs no lock: the result holds nothing.
    // A conflicting lock fails with fcntl's errno (EAGAIN or EACCES) and a message naming the
    // holder's pid.
    static Result<RangeLock> acquire(const BlockDevice& dev, bool exclusive);

    RangeLock(RangeLock&& other) noexcept;
    RangeLock& operator=(RangeLock&& other) noexcept;
    RangeLock(const RangeLock&) = delete;
    RangeLock& operator=(const RangeLock&) = delete;
    ~RangeLock();

    // Unlock now. Releasing a lock that holds nothing does nothing.
    Result<void> release();

    bool held() const { return m_fd >= 0; }
    bool exclusive() const { return m_exclusive; }
    // The locked bytes of the host file.
    Extent range() const { return m_range; }

private:
    RangeLock(int fd, Extent range, bool exclusive)
        : m_fd(fd), m_range(range), m_exclusive(exclusive) {}

    int m_fd = -1;  // our duplicate of the device's descriptor: same open file description
    Extent m_range;
    bool m_exclusive = false;
};

// The pid of a process holding a lock on the file behind `fd` that conflicts with locking
// `range` (shared or exclusive), or 0 when none can be found. Descriptors `skip_fd1` and
// `skip_fd2` of this process are left out (the caller's own description). Exposed for tests.
pid_t find_lock_holder(int fd, Extent range, bool exclusive, int skip_fd1 = -1,
                       int skip_fd2 = -1);

}  // namespace uk::io
