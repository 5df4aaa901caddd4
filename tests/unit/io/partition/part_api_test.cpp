// The C partition functions (src/api/ukfs_part.cpp) against NetBSD's contract: the selector is
// cut off the caller's string, errors are -1 and errno, ukfs_part_none for no selector,
// ukfs_part_tostring's return values and texts.

#include <ukfs/ukfs.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "api/part.hpp"
#include "part_test_support.hpp"

using namespace uk;
using namespace uk::io;
using part_test::TempImage;

namespace {

// ukfs_part_probe on a copy of `text`; the copy (as changed) in *after.
int probe(const std::string& text, ukfs_part** part, std::string* after = nullptr) {
    std::string buf = text;
    errno = 0;
    const int rv = ukfs_part_probe(buf.data(), part);
    if (after)
        *after = buf.c_str();
    return rv;
}

std::string text_of(ukfs_part* part, std::size_t size = 64, int* rv = nullptr) {
    std::string buf(size, 'X');
    const int r = ukfs_part_tostring(part, buf.data(), size);
    if (rv)
        *rv = r;
    return size ? std::string(buf.c_str()) : buf;
}

}  // namespace

TEST(PartApi, NoSelectorIsPartNone) {
    ukfs_part* part = nullptr;
    std::string after;
    ASSERT_EQ(probe("disk.img", &part, &after), 0);
    EXPECT_EQ(part, ukfs_part_none);
    EXPECT_EQ(after, "disk.img");
    int rv = -2;
    EXPECT_EQ(text_of(part, 64, &rv), "");
    EXPECT_EQ(rv, 0);
    ukfs_part_release(part);  // a no-op on the pseudo parts
}

TEST(PartApi, OffsetIsCutAndPrintedAsNetBSDDoes) {
    ukfs_part* part = nullptr;
    std::string after;
    ASSERT_EQ(probe("disk.img%OFFSET:512,1024%", &part, &after), 0);
    ASSERT_NE(part, nullptr);
    EXPECT_EQ(after, "disk.img");
    int rv = 0;
    EXPECT_EQ(text_of(part, 64, &rv), "[512,1536]");
    EXPECT_EQ(rv, 1);
    EXPECT_EQ(text_of(part, 4, &rv), "[51");  // truncated like snprintf
    EXPECT_EQ(rv, 1);
    ukfs_part_release(part);

    ASSERT_EQ(probe("d%OFFSET:4096,0%", &part), 0);
    EXPECT_EQ(text_of(part), "[4096,EOF]");
    ukfs_part_release(part);
}

TEST(PartApi, ErrorsLeaveTheStringAlone) {
    struct Case {
        const char* text;
        int err;
    };
    for (const Case c : {Case{"d%PART:a%", ENODEV}, Case{"d%OFFSET:-1,2%", ERANGE},
                         Case{"d%OFFSET:1x,2%", EADDRNOTAVAIL}, Case{"d%OFFSET:12%", EINVAL},
                         Case{"d%OFFSET:1,2", EINVAL}, Case{"d%DISKLABEL:z%", EINVAL},
                         Case{"d%MBR:0%", EINVAL}}) {
        SCOPED_TRACE(c.text);
        ukfs_part* part = reinterpret_cast<ukfs_part*>(0x1);
        std::string after;
        EXPECT_EQ(probe(c.text, &part, &after), -1);
        EXPECT_EQ(errno, c.err);
        EXPECT_EQ(after, c.text);
        EXPECT_EQ(part, reinterpret_cast<ukfs_part*>(0x1));
    }
}

TEST(PartApi, DisklabelIsReadAtProbeTime) {
    TempImage img(4 << 20);
    img.write(512, part_test::make_disklabel(std::endian::little, {{64, 1024}, {2048, 2048}}));
    ukfs_part* part = nullptr;
    std::string after;
    ASSERT_EQ(probe(img.path() + "%DISKLABEL:b%", &part, &after), 0) << std::strerror(errno);
    EXPECT_EQ(after, img.path());
    ASSERT_TRUE(part->extent);
    EXPECT_EQ(*part->extent, (Extent{2048 * 512, 2048 * 512}));
    EXPECT_EQ(text_of(part), "%DISKLABEL:b%");

    // The mount side: the device it gets is the partition.
    auto whole = ImageFile::open(img.path(), true);
    ASSERT_TRUE(whole);
    auto dev = api::part_device(std::shared_ptr<BlockDevice>(std::move(*whole)), part);
    ASSERT_TRUE(dev) << dev.error().describe();
    EXPECT_EQ((*dev)->host_offset(), 2048u * 512);
    EXPECT_EQ((*dev)->size(), 2048u * 512);

    // A mount's reference keeps it alive past the caller's release.
    EXPECT_EQ(api::part_retain(part), part);
    ukfs_part_release(part);
    EXPECT_EQ(text_of(part), "%DISKLABEL:b%");
    ukfs_part_release(part);

    EXPECT_EQ(probe(img.path() + "%DISKLABEL:c%", &part, &after), -1);
    EXPECT_EQ(errno, ENOENT);  // the label has 2 partitions: NetBSD would have read past them
    EXPECT_EQ(after, img.path() + "%DISKLABEL:c%");
}

TEST(PartApi, DisklabelErrorsAreNetBSDs) {
    TempImage img(1 << 20);
    ukfs_part* part = nullptr;
    EXPECT_EQ(probe(img.path() + "%DISKLABEL:a%", &part), -1);
    EXPECT_EQ(errno, ENOENT);  // no label
    EXPECT_EQ(probe("/nonexistent/ukfs-test.img%DISKLABEL:a%", &part), -1);
    EXPECT_EQ(errno, ENOENT);  // open(2) failed
}

TEST(PartApi, MbrIsReadAtProbeTime) {
    if (!part_test::have_tool("sfdisk"))
        GTEST_SKIP() << "sfdisk is not installed (scripts/setup.sh installs it)";
    TempImage img(4 << 20);
    int status = 0;
    part_test::run("printf 'label: dos\\nstart=2048, size=2048, type=83\\n' | sfdisk -q '" +
                       img.path() + "' 2>&1",
                   &status);
    ASSERT_EQ(status, 0);
    ukfs_part* part = nullptr;
    ASSERT_EQ(probe(img.path() + "%MBR:1%", &part), 0) << std::strerror(errno);
    EXPECT_EQ(*part->extent, (Extent{2048 * 512, 2048 * 512}));
    EXPECT_EQ(text_of(part), "%MBR:1%");
    ukfs_part_release(part);
    EXPECT_EQ(probe(img.path() + "%MBR:2%", &part), -1);
    EXPECT_EQ(errno, ENOENT);
}

TEST(PartApi, PseudoParts) {
    int rv = 0;
    errno = 0;
    EXPECT_EQ(text_of(ukfs_part_na, 64, &rv), "");
    EXPECT_EQ(rv, -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(text_of(nullptr, 64, &rv), "");
    EXPECT_EQ(rv, 0);
    EXPECT_EQ(ukfs_part_tostring(ukfs_part_none, nullptr, 0), 0);
    EXPECT_TRUE(api::part_is_na(ukfs_part_na));
    EXPECT_FALSE(api::part_is_na(ukfs_part_none));
    EXPECT_FALSE(api::part_is_na(nullptr));
    ukfs_part_release(ukfs_part_na);
    ukfs_part_release(ukfs_part_none);
    ukfs_part_release(nullptr);
    auto mem = std::make_shared<MemoryDevice>(4096);
    auto same = api::part_device(mem, ukfs_part_none);
    ASSERT_TRUE(same);
    EXPECT_EQ(same->get(), mem.get());
}

TEST(PartApi, OffsetResolvedAtMountTime) {
    ukfs_part* part = nullptr;
    ASSERT_EQ(probe("x%OFFSET:1024,0%", &part), 0);
    EXPECT_FALSE(part->extent);
    auto mem = std::make_shared<MemoryDevice>(4096);
    auto dev = api::part_device(mem, part);
    ASSERT_TRUE(dev);
    EXPECT_EQ((*dev)->size(), 3072u);
    ukfs_part_release(part);
}
