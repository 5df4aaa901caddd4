#include "base/utf8.hpp"

#include <gtest/gtest.h>

namespace uk {
namespace {

using namespace std::string_view_literals;

TEST(Utf8, EncodesEachLength) {
    std::string s;
    for (char32_t c : {U'A', U'\u00e9', U'\u20ac', U'\U0001F600'})
        append_utf8(s, c);
    EXPECT_EQ(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(Utf8, DecodesWhatItEncodes) {
    for (char32_t c :
         {U'\0', U'\x7f', U'\x80', U'\u07ff', U'\u0800', U'\uffff', U'\U00010000', U'\U0010FFFF'}) {
        std::string s;
        append_utf8(s, c);
        const auto d = decode_utf8(s, 0);
        ASSERT_TRUE(d) << static_cast<std::uint32_t>(c);
        EXPECT_EQ(d->code, c);
        EXPECT_EQ(d->length, s.size());
    }
}

TEST(Utf8, RefusesWhatIsNotUtf8) {
    for (std::string_view bad :
         {"\x80"sv, "\xc3"sv, "\xc3("sv, "\xc0\xaf"sv, "\xe0\x80\xaf"sv, "\xed\xa0\x80"sv,
          "\xf4\x90\x80\x80"sv, "\xf8\x88\x80\x80\x80"sv, "\xff"sv})
        EXPECT_FALSE(decode_utf8(bad, 0)) << testing::PrintToString(bad);
    EXPECT_FALSE(decode_utf8("a", 1));
}

TEST(Utf16, SurrogatePairsAboveTheBasicPlane) {
    std::u16string s;
    append_utf16(s, U'z');
    append_utf16(s, U'\U0001F600');
    EXPECT_EQ(s, u"z\xD83D\xDE00");
}

}  // namespace
}  // namespace uk
