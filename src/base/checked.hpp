// Overflow-checked arithmetic for sizes and offsets read from disk.
#pragma once

#include <cerrno>
#include <concepts>
#include <cstdint>

#include "base/result.hpp"

namespace uk {

template <std::unsigned_integral T>
Result<T> checked_add(T a, T b) {
    T r;
    if (__builtin_add_overflow(a, b, &r))
        return Error::sys(EOVERFLOW, "arithmetic overflow");
    return r;
}

template <std::unsigned_integral T>
Result<T> checked_mul(T a, T b) {
    T r;
    if (__builtin_mul_overflow(a, b, &r))
        return Error::sys(EOVERFLOW, "arithmetic overflow");
    return r;
}

template <std::unsigned_integral T>
constexpr T ceil_div(T a, T b) {
    return a / b + (a % b != 0);
}

// True when [off, off + len) lies inside [0, size), without wrapping.
constexpr bool range_fits(std::uint64_t off, std::uint64_t len, std::uint64_t size) {
    return off <= size && len <= size - off;
}

}  // namespace uk
