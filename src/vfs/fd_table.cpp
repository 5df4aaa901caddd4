// The descriptor table.
#include "vfs/fd_table.hpp"

namespace uk::vfs {

int FdTable::add(OpenFile file) {
    std::lock_guard guard(m_lock);
    for (std::size_t i = 0; i < m_files.size(); ++i) {
        if (!m_files[i]) {
            m_files[i] = std::make_unique<OpenFile>(std::move(file));
            return static_cast<int>(i);
        }
    }
    m_files.push_back(std::make_unique<OpenFile>(std::move(file)));
    return static_cast<int>(m_files.size() - 1);
}

Result<OpenFile> FdTable::get(int fd) const {
    std::lock_guard guard(m_lock);
    if (fd < 0 || static_cast<std::size_t>(fd) >= m_files.size() || !m_files[static_cast<std::size_t>(fd)])
        return Error::sys(EBADF);
    return *m_files[static_cast<std::size_t>(fd)];
}

Result<OpenFile> FdTable::take(int fd) {
    std::lock_guard guard(m_lock);
    if (fd < 0 || static_cast<std::size_t>(fd) >= m_files.size() || !m_files[static_cast<std::size_t>(fd)])
        return Error::sys(EBADF);
    OpenFile f = std::move(*m_files[static_cast<std::size_t>(fd)]);
    m_files[static_cast<std::size_t>(fd)].reset();
    return f;
}

std::vector<OpenFile> FdTable::take_all() {
    std::lock_guard guard(m_lock);
    std::vector<OpenFile> out;
    for (auto& f : m_files)
        if (f)
            out.push_back(std::move(*f));
    m_files.clear();
    return out;
}

std::size_t FdTable::count() const {
    std::lock_guard guard(m_lock);
    std::size_t n = 0;
    for (const auto& f : m_files)
        n += f != nullptr;
    return n;
}

}  // namespace uk::vfs
