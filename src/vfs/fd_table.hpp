// The descriptor table of a mount: small integers for ukfs_open, each holding its vnode until
// ukfs_close (so an unlinked file stays readable through it).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "base/result.hpp"
#include "vfs/vnode_cache.hpp"

namespace uk::vfs {

struct OpenFile {
    VnodeRef node;
    int flags = 0;  // host O_* flags
};

class FdTable {
public:
    int add(OpenFile file);
    // EBADF for a descriptor that is not open.
    Result<OpenFile> get(int fd) const;
    Result<OpenFile> take(int fd);
    std::vector<OpenFile> take_all();
    std::size_t count() const;

private:
    mutable std::mutex m_lock;  // guards m_files
    std::vector<std::unique_ptr<OpenFile>> m_files;
};

}  // namespace uk::vfs
