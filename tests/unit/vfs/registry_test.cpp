// Type detection: the best score wins; the slower look for damaged file systems is made only
// when no detector recognised the device.
#include <gtest/gtest.h>

#include "io/block_device.hpp"
#include "vfs/registry.hpp"

namespace uk::vfs {
namespace {

Driver driver(std::string name, int score, int damaged_score, int* damaged_calls) {
    Driver d;
    d.name = std::move(name);
    d.detect = [score](io::BlockDevice&) { return score; };
    d.detect_damaged = [damaged_score, damaged_calls](io::BlockDevice&) {
        ++*damaged_calls;
        return damaged_score;
    };
    return d;
}

TEST(RegistryDetect, BestScoreWinsAndDamagedLookWaits) {
    io::MemoryDevice dev(std::vector<std::byte>(4096), false);
    int calls = 0;
    Registry r;
    ASSERT_TRUE(r.add(driver("low", 20, 0, &calls)));
    ASSERT_TRUE(r.add(driver("high", 80, 0, &calls)));
    ASSERT_TRUE(r.add(driver("copy", 0, 99, &calls)));
    auto found = r.detect(dev);
    ASSERT_TRUE(found) << found.error().describe();
    EXPECT_EQ(found->name, "high");
    EXPECT_EQ(calls, 0);  // something was recognised: no slow look
}

TEST(RegistryDetect, DamagedLookWhenNothingElseMatches) {
    io::MemoryDevice dev(std::vector<std::byte>(4096), false);
    int calls = 0;
    Registry r;
    ASSERT_TRUE(r.add(driver("none", 0, 0, &calls)));
    ASSERT_TRUE(r.add(driver("copy", 0, 30, &calls)));
    auto found = r.detect(dev);
    ASSERT_TRUE(found) << found.error().describe();
    EXPECT_EQ(found->name, "copy");
    EXPECT_EQ(calls, 2);
}

TEST(RegistryDetect, NothingFoundNamesTheTypesTried) {
    io::MemoryDevice dev(std::vector<std::byte>(4096), false);
    int calls = 0;
    Registry r;
    ASSERT_TRUE(r.add(driver("alpha", 0, 0, &calls)));
    ASSERT_TRUE(r.add(driver("beta", 0, 0, &calls)));
    auto found = r.detect(dev);
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error().errnum(), ENODEV);
    EXPECT_NE(found.error().message().find("alpha, beta"), std::string::npos)
        << found.error().message();
}

}  // namespace
}  // namespace uk::vfs
