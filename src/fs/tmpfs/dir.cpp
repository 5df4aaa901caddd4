// tmpfs directory entries: a name index and a listing in insertion order with stable cookies.
#include "fs/tmpfs/node.hpp"

namespace uk::tmpfs {

const DirSlot* DirData::find(std::string_view name) const {
    auto it = m_by_name.find(name);
    return it == m_by_name.end() ? nullptr : &it->second;
}

void DirData::insert(std::string_view name, InodeNo ino, VType type) {
    const std::uint64_t cookie = m_next_cookie;
    auto [it, inserted] = m_by_name.emplace(std::string(name), DirSlot{cookie, ino, type});
    if (!inserted)
        return;  // callers check first; never replace an entry silently
    try {
        m_by_cookie.emplace(cookie, it);
    } catch (...) {
        m_by_name.erase(it);
        throw;
    }
    ++m_next_cookie;
}

void DirData::repoint(std::string_view name, InodeNo ino, VType type) {
    auto it = m_by_name.find(name);
    if (it == m_by_name.end())
        return;
    it->second.ino = ino;
    it->second.type = type;
}

void DirData::erase(std::string_view name) {
    auto it = m_by_name.find(name);
    if (it == m_by_name.end())
        return;
    m_by_cookie.erase(it->second.cookie);
    m_by_name.erase(it);
}

void DirData::list(std::uint64_t from, const Visitor& visit) const {
    for (auto it = m_by_cookie.lower_bound(from); it != m_by_cookie.end(); ++it) {
        const auto& [name, slot] = *it->second;
        if (!visit(name, slot))
            return;
    }
}

}  // namespace uk::tmpfs
