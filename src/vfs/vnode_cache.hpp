// The vnode cache (one vnode per inode while in use, and some unused ones kept warm) and the
// name cache ((directory, name) -> inode), so that repeated path calls cost no driver work.
// Both lock internally: lookups run under the mount's shared lock from many threads.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "base/result.hpp"
#include "vfs/vnode.hpp"

namespace uk::vfs {

using VnodeRef = std::shared_ptr<Vnode>;

class VnodeCache {
public:
    explicit VnodeCache(FileSystem& fs, std::size_t max_unused = 8192) : m_fs(fs), m_max(max_unused) {}

    // The vnode of `ino`, loaded by the driver on a miss. Loading runs outside the cache's
    // lock; when two threads race to load one inode, the first to finish wins. (shared)
    Result<VnodeRef> get(InodeNo ino);

    // `ino` lost its last link while open: keep it until its last user lets go. (exclusive)
    void add_orphan(InodeNo ino);
    // Reclaim `ino` if it is an orphan (or has no links) and nobody but the cache holds it.
    // (exclusive)
    Result<void> release_if_unlinked(InodeNo ino);
    // Reclaim every orphan and drop every vnode: the file system is being unmounted. All
    // references held elsewhere must be gone. (exclusive)
    Result<void> drop_all();

private:
    void trim_locked();

    FileSystem& m_fs;
    std::size_t m_max;
    std::mutex m_lock;  // guards m_nodes and m_orphans
    std::unordered_map<InodeNo, VnodeRef> m_nodes;
    std::unordered_set<InodeNo> m_orphans;
};

class NameCache {
public:
    explicit NameCache(std::size_t max_entries = 65536) : m_max(max_entries) {}

    bool find(InodeNo dir, std::string_view name, InodeNo& out);
    void enter(InodeNo dir, std::string_view name, InodeNo ino);
    void forget(InodeNo dir, std::string_view name);
    void clear();

private:
    static std::string key(InodeNo dir, std::string_view name);
    std::size_t m_max;
    std::mutex m_lock;  // guards m_map
    std::unordered_map<std::string, InodeNo> m_map;
};

}  // namespace uk::vfs
