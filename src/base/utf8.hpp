// UTF-8 and UTF-16: the encodings file systems with UCS names (FAT long names, Joliet) convert
// between (RFC 3629, and the surrogate pairs of Unicode 3.9).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace uk {

// Appends code point `c` (at most U+10FFFF) as UTF-8.
void append_utf8(std::string& out, char32_t c);
// Appends code point `c` (at most U+10FFFF) as one UTF-16 unit or a surrogate pair.
void append_utf16(std::u16string& out, char32_t c);

// The code point encoded at s[at...] and its length in bytes; nullopt where the bytes are not
// UTF-8 (a bad lead or continuation byte, a cut sequence, an overlong form, a surrogate, or
// beyond U+10FFFF).
struct Utf8Char {
    char32_t code;
    std::size_t length;
};
std::optional<Utf8Char> decode_utf8(std::string_view s, std::size_t at);

}  // namespace uk
