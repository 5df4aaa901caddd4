// tmpfs regular file data: sparse pages, and the page budget of the mount (ta_size_max).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fs/tmpfs/node.hpp"

namespace uk::tmpfs {

bool PageAccount::take(std::uint64_t n) {
    std::uint64_t used = m_used.load(std::memory_order_relaxed);
    do {
        if (n > m_max - used)
            return false;
    } while (!m_used.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
}

std::size_t FileData::read(std::uint64_t offset, std::span<std::byte> dst) const {
    if (offset >= m_size)
        return 0;
    const std::size_t total =
        static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(), m_size - offset));
    std::size_t done = 0;
    auto it = m_pages.lower_bound(offset / page_size);
    while (done < total) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t index = pos / page_size;
        const std::size_t in_page = static_cast<std::size_t>(pos % page_size);
        const std::size_t n = std::min(total - done, page_size - in_page);
        while (it != m_pages.end() && it->first < index)
            ++it;
        std::byte* out = dst.data() + done;
        if (it != m_pages.end() && it->first == index)
            std::memcpy(out, it->second->data() + in_page, n);
        else
            std::memset(out, 0, n);  // a hole
        done += n;
    }
    return done;
}

FileData::Page* FileData::page_for_write(std::uint64_t index, PageAccount& account) {
    auto it = m_pages.find(index);
    if (it != m_pages.end())
        return it->second.get();
    auto page = std::make_unique<Page>();  // zeroed
    if (!account.take(1))
        return nullptr;
    Page* p = page.get();
    try {
        m_pages.emplace(index, std::move(page));
    } catch (...) {
        account.give(1);
        throw;
    }
    return p;
}

Result<std::size_t> FileData::write(std::uint64_t offset, std::span<const std::byte> src,
                                    PageAccount& account) {
    if (offset >= max_file_size)
        return Error::sys(EFBIG, "tmpfs: offset past the maximum file size");
    const std::size_t total =
        static_cast<std::size_t>(std::min<std::uint64_t>(src.size(), max_file_size - offset));
    std::size_t done = 0;
    while (done < total) {
        const std::uint64_t pos = offset + done;
        const std::size_t in_page = static_cast<std::size_t>(pos % page_size);
        const std::size_t n = std::min(total - done, page_size - in_page);
        Page* page = page_for_write(pos / page_size, account);
        if (page == nullptr)
            break;
        std::memcpy(page->data() + in_page, src.data() + done, n);
        done += n;
    }
    if (done == 0 && total != 0)
        return Error::sys(ENOSPC, "tmpfs: the mount's size limit is reached");
    m_size = std::max<std::uint64_t>(m_size, offset + done);
    return done;
}

void FileData::resize(std::uint64_t new_size, PageAccount& account) {
    if (new_size < m_size) {
        const std::uint64_t first_gone = new_size / page_size + (new_size % page_size != 0);
        auto from = m_pages.lower_bound(first_gone);
        const auto freed = static_cast<std::uint64_t>(std::distance(from, m_pages.end()));
        m_pages.erase(from, m_pages.end());
        account.give(freed);
        const std::size_t tail = static_cast<std::size_t>(new_size % page_size);
        if (tail != 0) {
            if (auto it = m_pages.find(new_size / page_size); it != m_pages.end())
                std::memset(it->second->data() + tail, 0, page_size - tail);
        }
    }
    m_size = new_size;
}

void FileData::release(PageAccount& account) {
    account.give(m_pages.size());
    m_pages.clear();
    m_size = 0;
}

}  // namespace uk::tmpfs
