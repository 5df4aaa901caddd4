// Checked byte views: every read of an on-disk structure goes through here, by value, with the
// bounds checked first. A view carries the name of what it views, for error messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/checked.hpp"
#include "base/result.hpp"

namespace uk {

class ByteView {
public:
    ByteView(std::span<const std::byte> bytes, std::string_view name)
        : m_bytes(bytes), m_name(name) {}
    ByteView(const void* data, std::size_t size, std::string_view name)
        : m_bytes(static_cast<const std::byte*>(data), size), m_name(name) {}

    std::size_t size() const { return m_bytes.size(); }
    std::string_view name() const { return m_name; }
    std::span<const std::byte> span() const { return m_bytes; }
    const std::byte* data() const { return m_bytes.data(); }

    bool fits(std::uint64_t off, std::uint64_t len) const { return range_fits(off, len, size()); }

    // Read a trivially copyable structure at `off`, by value.
    template <class T>
    Result<T> read(std::uint64_t off) const {
        static_assert(std::is_trivially_copyable_v<T>);
        if (!fits(off, sizeof(T)))
            return out_of_bounds(off, sizeof(T));
        T v;
        std::memcpy(&v, m_bytes.data() + off, sizeof(T));
        return v;
    }

    Result<ByteView> sub(std::uint64_t off, std::uint64_t len) const {
        if (!fits(off, len))
            return out_of_bounds(off, len);
        return ByteView(m_bytes.subspan(off, len), m_name);
    }

    Error out_of_bounds(std::uint64_t off, std::uint64_t len) const;

private:
    std::span<const std::byte> m_bytes;
    std::string_view m_name;
};

// The mirror image: writes structures by value into a mutable buffer, bounds checked.
class ByteWriter {
public:
    ByteWriter(std::span<std::byte> bytes, std::string_view name) : m_bytes(bytes), m_name(name) {}

    std::size_t size() const { return m_bytes.size(); }
    template <class T>
    Result<void> write(std::uint64_t off, const T& v) {
        static_assert(std::is_trivially_copyable_v<T>);
        if (!range_fits(off, sizeof(T), size()))
            return ByteView(m_bytes, m_name).out_of_bounds(off, sizeof(T));
        std::memcpy(m_bytes.data() + off, &v, sizeof(T));
        return {};
    }

private:
    std::span<std::byte> m_bytes;
    std::string_view m_name;
};

}  // namespace uk
