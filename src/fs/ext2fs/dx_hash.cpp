// Directory hashes (see dx_hash.hpp).
#include "fs/ext2fs/dx_hash.hpp"

#include <bit>

#include "fs/ext2fs/format.hpp"

namespace uk::ext2fs {

namespace {

// A name byte as the hash reads it: sign-extended, or not.
std::uint32_t byte_at(std::string_view s, std::size_t i, bool is_unsigned) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (is_unsigned)
        return u;
    return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(u)));
}

std::uint32_t legacy_hash(std::string_view name, bool is_unsigned) {
    std::uint32_t h0 = 0x12a3fe2d;
    std::uint32_t h1 = 0x37abe8f9;
    for (std::size_t i = 0; i < name.size(); ++i) {
        std::uint32_t h = h1 + (h0 ^ (byte_at(name, i, is_unsigned) * 7152373u));
        if ((h & 0x80000000u) != 0)
            h -= 0x7fffffff;
        h1 = h0;
        h0 = h;
    }
    return h0 << 1;
}

// Up to 4 * words bytes of `s` packed big-end-first into words, padded with a pattern made of
// the remaining length.
template <std::size_t N>
void to_words(std::string_view s, std::array<std::uint32_t, N>& out, bool is_unsigned) {
    const auto len = static_cast<std::uint32_t>(s.size());
    std::uint32_t pad = len | (len << 8);
    pad |= pad << 16;
    std::uint32_t val = pad;
    const std::size_t take = std::min<std::size_t>(s.size(), N * 4);
    std::size_t w = 0;
    for (std::size_t i = 0; i < take; ++i) {
        val = byte_at(s, i, is_unsigned) + (val << 8);
        if (i % 4 == 3) {
            out[w++] = val;
            val = pad;
        }
    }
    if (w < N)
        out[w++] = val;
    while (w < N)
        out[w++] = pad;
}

void tea_transform(std::array<std::uint32_t, 4>& buf, const std::array<std::uint32_t, 4>& in) {
    std::uint32_t sum = 0;
    std::uint32_t b0 = buf[0];
    std::uint32_t b1 = buf[1];
    const std::uint32_t a = in[0], b = in[1], c = in[2], d = in[3];
    for (int n = 0; n < 16; ++n) {
        sum += 0x9E3779B9u;
        b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b);
        b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d);
    }
    buf[0] += b0;
    buf[1] += b1;
}

void half_md4_transform(std::array<std::uint32_t, 4>& buf, const std::array<std::uint32_t, 8>& in) {
    constexpr std::uint32_t k2 = 013240474631u;
    constexpr std::uint32_t k3 = 015666365641u;
    auto f = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return z ^ (x & (y ^ z)); };
    auto g = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) {
        return (x & y) + ((x ^ y) & z);
    };
    auto h = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return x ^ y ^ z; };
    std::uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];
    auto round = [](auto fn, std::uint32_t& w, std::uint32_t x, std::uint32_t y, std::uint32_t z,
                    std::uint32_t v, int s) { w = std::rotl(w + fn(x, y, z) + v, s); };
    // Round 1: words in order, shifts 3 7 11 19.
    round(f, a, b, c, d, in[0], 3);
    round(f, d, a, b, c, in[1], 7);
    round(f, c, d, a, b, in[2], 11);
    round(f, b, c, d, a, in[3], 19);
    round(f, a, b, c, d, in[4], 3);
    round(f, d, a, b, c, in[5], 7);
    round(f, c, d, a, b, in[6], 11);
    round(f, b, c, d, a, in[7], 19);
    // Round 2: odd words then even ones, shifts 3 5 9 13.
    round(g, a, b, c, d, in[1] + k2, 3);
    round(g, d, a, b, c, in[3] + k2, 5);
    round(g, c, d, a, b, in[5] + k2, 9);
    round(g, b, c, d, a, in[7] + k2, 13);
    round(g, a, b, c, d, in[0] + k2, 3);
    round(g, d, a, b, c, in[2] + k2, 5);
    round(g, c, d, a, b, in[4] + k2, 9);
    round(g, b, c, d, a, in[6] + k2, 13);
    // Round 3: 3 7 2 6 1 5 0 4, shifts 3 9 11 15.
    round(h, a, b, c, d, in[3] + k3, 3);
    round(h, d, a, b, c, in[7] + k3, 9);
    round(h, c, d, a, b, in[2] + k3, 11);
    round(h, b, c, d, a, in[6] + k3, 15);
    round(h, a, b, c, d, in[1] + k3, 3);
    round(h, d, a, b, c, in[5] + k3, 9);
    round(h, c, d, a, b, in[0] + k3, 11);
    round(h, b, c, d, a, in[4] + k3, 15);
    buf[0] += a;
    buf[1] += b;
    buf[2] += c;
    buf[3] += d;
}

}  // namespace

DxHashValue dx_hash(std::uint8_t version, const std::array<std::uint32_t, 4>& seed,
                    std::string_view name) {
    std::array<std::uint32_t, 4> buf{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    if (seed[0] != 0 || seed[1] != 0 || seed[2] != 0 || seed[3] != 0)
        buf = seed;
    const bool is_unsigned = version >= dx_hash_unsigned_delta;
    DxHashValue v;
    switch (version % dx_hash_unsigned_delta) {
    case dx_hash_legacy: v.hash = legacy_hash(name, is_unsigned); break;
    case dx_hash_half_md4:
        for (std::string_view p = name; !p.empty();
             p.remove_prefix(std::min<std::size_t>(32, p.size()))) {
            std::array<std::uint32_t, 8> in{};
            to_words(p, in, is_unsigned);
            half_md4_transform(buf, in);
        }
        v.hash = buf[1];
        v.minor = buf[2];
        break;
    default:
        for (std::string_view p = name; !p.empty();
             p.remove_prefix(std::min<std::size_t>(16, p.size()))) {
            std::array<std::uint32_t, 4> in{};
            to_words(p, in, is_unsigned);
            tea_transform(buf, in);
        }
        v.hash = buf[0];
        v.minor = buf[1];
        break;
    }
    if (!dx_hash_known(version))
        return {};
    v.hash &= ~1u;
    if (v.hash == 0x7fffffffu << 1)  // the end-of-directory marker is never a real hash
        v.hash = 0x7ffffffeu << 1;
    return v;
}

}  // namespace uk::ext2fs
