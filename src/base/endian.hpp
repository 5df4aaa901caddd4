// Endian-safe on-disk integer fields: byte storage, read and written by value. alignof == 1,
// so a struct of these can be memcpy'd from any offset without undefined behaviour.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace uk {

template <class T>
constexpr T byteswap(T v) {
    static_assert(std::is_unsigned_v<T>);
    if constexpr (sizeof(T) == 1)
        return v;
    else if constexpr (sizeof(T) == 2)
        return static_cast<T>(__builtin_bswap16(v));
    else if constexpr (sizeof(T) == 4)
        return static_cast<T>(__builtin_bswap32(v));
    else
        return static_cast<T>(__builtin_bswap64(v));
}

template <class T, std::endian E>
class Packed {
public:
    using value_type = T;
    T get() const {
        T v;
        std::memcpy(&v, m_bytes, sizeof v);
        if constexpr (E != std::endian::native)
            v = byteswap(v);
        return v;
    }
    void set(T v) {
        if constexpr (E != std::endian::native)
            v = byteswap(v);
        std::memcpy(m_bytes, &v, sizeof v);
    }

private:
    std::uint8_t m_bytes[sizeof(T)];
};

using le16 = Packed<std::uint16_t, std::endian::little>;
using le32 = Packed<std::uint32_t, std::endian::little>;
using le64 = Packed<std::uint64_t, std::endian::little>;
using be16 = Packed<std::uint16_t, std::endian::big>;
using be32 = Packed<std::uint32_t, std::endian::big>;
using be64 = Packed<std::uint64_t, std::endian::big>;
static_assert(sizeof(le64) == 8 && alignof(le64) == 1);

// A field whose byte order is known only at run time (FFS: NetBSD's `needswap`): raw bytes,
// read through an Order captured at mount.
template <class T>
struct Raw {
    std::uint8_t bytes[sizeof(T)];
};
using Raw16 = Raw<std::uint16_t>;
using Raw32 = Raw<std::uint32_t>;
using Raw64 = Raw<std::uint64_t>;

class Order {
public:
    explicit Order(std::endian e = std::endian::little) : m_swap(e != std::endian::native) {}
    std::endian endian() const {
        return m_swap == (std::endian::native == std::endian::little) ? std::endian::big
                                                                      : std::endian::little;
    }
    template <class T>
    T get(const Raw<T>& r) const {
        T v;
        std::memcpy(&v, r.bytes, sizeof v);
        return m_swap ? byteswap(v) : v;
    }
    template <class T>
    void set(Raw<T>& r, T v) const {
        if (m_swap)
            v = byteswap(v);
        std::memcpy(r.bytes, &v, sizeof v);
    }
    std::uint16_t u16(const Raw16& r) const { return get(r); }
    std::uint32_t u32(const Raw32& r) const { return get(r); }
    std::uint64_t u64(const Raw64& r) const { return get(r); }

private:
    bool m_swap;
};

}  // namespace uk
