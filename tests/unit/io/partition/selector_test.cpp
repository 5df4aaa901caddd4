// Selector parsing: one row per accepted form and per rejected one, with errno and message.
// The NetBSD rows follow lib/libukfs/ukfs.c ukfs_part_probe (1.58).
#include "io/partition/selector.hpp"

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace uk;
using namespace uk::io;

namespace {

struct Row {
    std::string input;
    std::optional<PartSpec> spec;  // set: accepted
    std::size_t cut = 0;           // where the path ends, when accepted
    int err = 0;                   // errno, when refused
    std::string message;           // a part of the message, when refused
};

Row ok(std::string in, PartSpec spec, std::size_t cut) {
    return {std::move(in), std::move(spec), cut, 0, {}};
}
Row bad(std::string in, int err, std::string message) {
    return {std::move(in), std::nullopt, 0, err, std::move(message)};
}

std::vector<Row> rows() {
    return {
        // No selector.
        ok("disk.img", WholeDevice{}, 8),
        ok("", WholeDevice{}, 0),
        ok("disk.img%offset:0,1%", WholeDevice{}, 20),  // magics are case-sensitive
        ok("50%.img", WholeDevice{}, 7),
        // %DISKLABEL:x%, x in a..v (NetBSD: 'a' + UKFS_MAXPARTITIONS, 22).
        ok("disk.img%DISKLABEL:a%", DisklabelSelector{'a'}, 8),
        ok("%DISKLABEL:v%", DisklabelSelector{'v'}, 0),
        bad("d%DISKLABEL:w%", EINVAL, "\"w\" is not a partition letter"),
        bad("d%DISKLABEL:A%", EINVAL, "not a partition letter"),
        bad("d%DISKLABEL:ab%", EINVAL, "\"ab\" is not a partition letter"),
        bad("d%DISKLABEL:%", EINVAL, "not a partition letter"),
        bad("d%DISKLABEL:a", EINVAL, "missing closing '%'"),
        bad("d%DISKLABEL:a%x", EINVAL, "text after the closing '%'"),
        // %OFFSET:start,size%, including forms shorter than UKFS_OFFSET_MINLEN.
        ok("disk.img%OFFSET:0,1%", OffsetSelector{0, 1}, 8),
        ok("d%OFFSET:512,512%", OffsetSelector{512, 512}, 1),
        ok("d%OFFSET:1048576,0%", OffsetSelector{1048576, 0}, 1),
        ok("d%OFFSET:,%", OffsetSelector{0, 0}, 1),  // strtouq("") is 0 in NetBSD too
        ok("d%OFFSET:9223372036854775806,1%", OffsetSelector{9223372036854775806u, 1}, 1),
        bad("d%OFFSET:-1,5%", ERANGE, "start \"-1\" is negative"),
        bad("d%OFFSET:1,-5%", ERANGE, "size \"-5\" is negative"),
        bad("d%OFFSET:99999999999999999999,1%", ERANGE, "is larger than"),
        bad("d%OFFSET:18446744073709551615,1%", ERANGE, "is larger than"),  // UQUAD_MAX
        bad("d%OFFSET:9223372036854775808,0%", ERANGE, "is larger than"),
        bad("d%OFFSET:9223372036854775807,1%", ERANGE, "start + size is larger"),
        bad("d%OFFSET:99999999999999999999x,1%", ERANGE, "is larger than"),  // strtouq order
        bad("d%OFFSET:12x,1%", EADDRNOTAVAIL, "start \"12x\" has trailing garbage"),
        bad("d%OFFSET:1,2x%", EADDRNOTAVAIL, "size \"2x\" has trailing garbage"),
        bad("d%OFFSET: 1,2%", EADDRNOTAVAIL, "trailing garbage"),
        bad("d%OFFSET:+1,2%", EADDRNOTAVAIL, "trailing garbage"),
        bad("d%OFFSET:1,2,3%", EADDRNOTAVAIL, "size \"2,3\""),
        bad("d%OFFSET:512%", EINVAL, "missing ','"),
        bad("d%OFFSET:0,512", EINVAL, "missing closing '%'"),
        bad("d%OFFSET:0,512%junk", EINVAL, "text after the closing '%'"),
        // %PART: is refused wherever it is (NetBSD: strstr, ENODEV).
        bad("d%PART:a%", ENODEV, "%PART is deprecated"),
        bad("%PART:x/d%OFFSET:0,1%", ENODEV, "use %DISKLABEL"),
        // %MBR:n%: 1-4 primary, 5.. logical.
        ok("d%MBR:1%", MbrSelector{1}, 1),
        ok("d%MBR:5%", MbrSelector{5}, 1),
        ok("d%MBR:2147483647%", MbrSelector{2147483647}, 1),
        bad("d%MBR:0%", EINVAL, "numbered from 1"),
        bad("d%MBR:x%", EINVAL, "\"x\" is not a partition number"),
        bad("d%MBR:%", EINVAL, "is not a partition number"),
        bad("d%MBR:1x%", EINVAL, "is not a partition number"),
        bad("d%MBR:-2%", ERANGE, "is negative"),
        bad("d%MBR:2147483648%", ERANGE, "is too large"),
        bad("d%MBR:1", EINVAL, "missing closing '%'"),
        // %GPT:n% and %GPT:name=LABEL%.
        ok("d%GPT:2%", GptSelector{2}, 1),
        ok("d%GPT:name=root%", GptNameSelector{"root"}, 1),
        ok("d%GPT:name=EFI System%", GptNameSelector{"EFI System"}, 1),
        ok("d%GPT:name=50%%", GptNameSelector{"50%"}, 1),
        ok("d%GPT:name=a,b%", GptNameSelector{"a,b"}, 1),
        bad("d%GPT:name=%", EINVAL, "empty GPT partition name"),
        bad("d%GPT:root%", EINVAL, "%GPT:name=LABEL%"),
        bad("d%GPT:0%", EINVAL, "numbered from 1"),
        // The selector is the last magic in the path.
        ok("dir%OFFSET:x/disk.img%MBR:2%", MbrSelector{2}, 21),
        ok("a%DISKLABEL:b%%OFFSET:1,2%", OffsetSelector{1, 2}, 14),
    };
}

}  // namespace

TEST(Selector, TableOfForms) {
    for (const Row& row : rows()) {
        SCOPED_TRACE(row.input);
        std::size_t cut = 12345;
        Result<PartSpec> r = parse_selector(row.input, &cut);
        if (row.spec) {
            ASSERT_TRUE(r) << r.error().describe();
            EXPECT_EQ(*r, *row.spec);
            EXPECT_EQ(cut, row.cut);
        } else {
            ASSERT_FALSE(r) << "accepted as " << to_string(*r);
            EXPECT_EQ(r.error().errnum(), row.err) << r.error().describe();
            EXPECT_NE(r.error().message().find(row.message), std::string::npos)
                << r.error().message();
            EXPECT_EQ(cut, 12345u) << "cut_at changed on an error";
        }
    }
}

TEST(Selector, MessagesNameTheSelector) {
    auto r = parse_selector("img%OFFSET:1,2x%");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "partition selector \"%OFFSET:1,2x%\": size \"2x\" has trailing garbage after "
              "the number");
}

TEST(Selector, CutAtIsOptional) {
    auto r = parse_selector("img%GPT:3%");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, PartSpec(GptSelector{3}));
}

TEST(Selector, ToStringRoundTrips) {
    for (const Row& row : rows()) {
        if (!row.spec)
            continue;
        SCOPED_TRACE(row.input);
        const std::string text = to_string(*row.spec);
        std::size_t cut = 99;
        auto back = parse_selector(text, &cut);
        ASSERT_TRUE(back) << back.error().describe();
        EXPECT_EQ(*back, *row.spec);
        EXPECT_EQ(cut, 0u);
    }
}

TEST(Selector, ToStringForms) {
    EXPECT_EQ(to_string(WholeDevice{}), "");
    EXPECT_EQ(to_string(DisklabelSelector{'e'}), "%DISKLABEL:e%");
    EXPECT_EQ(to_string(OffsetSelector{512, 1024}), "%OFFSET:512,1024%");
    EXPECT_EQ(to_string(MbrSelector{5}), "%MBR:5%");
    EXPECT_EQ(to_string(GptSelector{2}), "%GPT:2%");
    EXPECT_EQ(to_string(GptNameSelector{"root"}), "%GPT:name=root%");
}
