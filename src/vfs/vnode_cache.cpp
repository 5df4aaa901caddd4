// The vnode cache and the name cache.
#include "vfs/vnode_cache.hpp"

#include <cstring>

namespace uk::vfs {

Result<VnodeRef> VnodeCache::get(InodeNo ino) {
    {
        std::lock_guard guard(m_lock);
        if (auto it = m_nodes.find(ino); it != m_nodes.end())
            return it->second;
    }
    std::unique_ptr<Vnode> loaded = UKFS_TRY(m_fs.load(ino));
    std::lock_guard guard(m_lock);
    auto [it, inserted] = m_nodes.emplace(ino, VnodeRef(std::move(loaded)));
    VnodeRef ref = it->second;  // trimming may erase the node just inserted: `it` with it
    if (inserted && m_nodes.size() > m_max)
        trim_locked();
    return ref;
}

// Drop vnodes that only the cache holds, oldest inode numbers first is as good as any order
// here: the drivers' own buffer caches keep the hot metadata.
void VnodeCache::trim_locked() {
    std::size_t target = m_max - m_max / 4;
    for (auto it = m_nodes.begin(); it != m_nodes.end() && m_nodes.size() > target;) {
        if (it->second.use_count() == 1 && !m_orphans.contains(it->first))
            it = m_nodes.erase(it);
        else
            ++it;
    }
}

void VnodeCache::add_orphan(InodeNo ino) {
    std::lock_guard guard(m_lock);
    m_orphans.insert(ino);
}

Result<void> VnodeCache::release_if_unlinked(InodeNo ino) {
    VnodeRef node;
    {
        std::lock_guard guard(m_lock);
        auto it = m_nodes.find(ino);
        if (it == m_nodes.end() || it->second.use_count() != 1)
            return {};
        node = it->second;
    }
    Attr attr = UKFS_TRY(node->getattr());
    if (attr.nlink != 0)
        return {};
    {
        std::lock_guard guard(m_lock);
        m_nodes.erase(ino);
        m_orphans.erase(ino);
    }
    return m_fs.reclaim(*node);
}

Result<void> VnodeCache::drop_all() {
    std::unordered_set<InodeNo> orphans;
    {
        std::lock_guard guard(m_lock);
        orphans = m_orphans;
    }
    Result<void> first_error;
    for (InodeNo ino : orphans) {
        auto r = release_if_unlinked(ino);
        if (!r && first_error)
            first_error = r;
    }
    std::lock_guard guard(m_lock);
    m_nodes.clear();
    m_orphans.clear();
    return first_error;
}

std::string NameCache::key(InodeNo dir, std::string_view name) {
    std::string k(sizeof dir + name.size(), '\0');
    std::memcpy(k.data(), &dir, sizeof dir);
    std::memcpy(k.data() + sizeof dir, name.data(), name.size());
    return k;
}

bool NameCache::find(InodeNo dir, std::string_view name, InodeNo& out) {
    std::string k = key(dir, name);
    std::lock_guard guard(m_lock);
    auto it = m_map.find(k);
    if (it == m_map.end())
        return false;
    out = it->second;
    return true;
}

void NameCache::enter(InodeNo dir, std::string_view name, InodeNo ino) {
    std::string k = key(dir, name);
    std::lock_guard guard(m_lock);
    if (m_map.size() >= m_max)
        m_map.clear();  // simple and bounded; the cache refills with what is hot
    m_map.insert_or_assign(std::move(k), ino);
}

void NameCache::forget(InodeNo dir, std::string_view name) {
    std::string k = key(dir, name);
    std::lock_guard guard(m_lock);
    m_map.erase(k);
}

void NameCache::clear() {
    std::lock_guard guard(m_lock);
    m_map.clear();
}

}  // namespace uk::vfs
