// MBR and GPT through libblkid, on images made at test time by sfdisk and sgdisk and judged
// by `sfdisk -J`. Skipped, with a message, when a tool is missing.
#include "io/partition/table.hpp"

#include <cerrno>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "io/partition/partition.hpp"
#include "part_test_support.hpp"

using namespace uk;
using namespace uk::io;
using part_test::SfdiskPart;
using part_test::TempImage;

namespace {

constexpr std::uint64_t mib = 1 << 20;

#define REQUIRE_TOOL(name)                                                                         \
    do {                                                                                           \
        if (!part_test::have_tool(name))                                                           \
            GTEST_SKIP() << name << " is not installed (scripts/setup.sh installs it)";             \
    } while (0)

// MBR: 1 primary, 2 extended holding logical 5 and 6, 3 primary after it. sfdisk numbers
// script lines in order, so the logical ones are named by their device ("IMAGE5 : ...").
void make_mbr(const std::string& path) {
    const std::string script =
        "label: dos\n"
        "start=2048, size=4096, type=83\n"
        "start=8192, size=16384, type=5\n"
        "start=26624, size=2048, type=c\n" +
        path + "5 : size=4096, type=83\n" + path + "6 : size=4096, type=82\n";
    int status = 0;
    const std::string out =
        part_test::run("printf '" + script + "' | sfdisk -q '" + path + "' 2>&1", &status);
    ASSERT_EQ(status, 0) << out;
}

// GPT with names: boot, root, data, and root again when `twice`.
void make_gpt(const std::string& path, bool twice = false) {
    std::string cmd = "sgdisk -n 1:2048:+1M -c 1:boot -n 2:0:+2M -c 2:root -n 3:0:+1M -c 3:data";
    if (twice)
        cmd += " -n 4:0:+1M -c 4:root";
    int status = 0;
    const std::string out = part_test::run(cmd + " '" + path + "' 2>&1", &status);
    ASSERT_EQ(status, 0) << out;
}

std::shared_ptr<BlockDevice> open_image(const std::string& path, bool ro = true) {
    auto dev = ImageFile::open(path, ro);
    EXPECT_TRUE(dev) << dev.error().describe();
    return dev ? std::shared_ptr<BlockDevice>(std::move(*dev)) : nullptr;
}

// The same bytes in memory, to go through the memfd path.
std::shared_ptr<MemoryDevice> in_memory(BlockDevice& dev) {
    std::vector<std::byte> bytes(dev.size());
    EXPECT_TRUE(dev.read_at(0, bytes));
    return std::make_shared<MemoryDevice>(std::move(bytes));
}

void expect_error(const Result<Extent>& r, int err, std::string_view text) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), err) << r.error().describe();
    EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
}

}  // namespace

TEST(Mbr, PrimaryAndLogicalMatchSfdisk) {
    REQUIRE_TOOL("sfdisk");
    TempImage img(32 * mib);
    make_mbr(img.path());
    const std::vector<SfdiskPart> oracle = part_test::sfdisk_json(img.path());
    ASSERT_EQ(oracle.size(), 5u);
    auto dev = open_image(img.path());
    auto mem = in_memory(*dev);
    for (const SfdiskPart& p : oracle) {
        SCOPED_TRACE(p.number);
        const Extent want{p.start * 512, p.size * 512};
        if (p.type == "5") {  // the extended container itself
            expect_error(resolve(MbrSelector{p.number}, *dev), EINVAL, "extended partition");
            continue;
        }
        auto got = resolve(MbrSelector{p.number}, *dev);
        ASSERT_TRUE(got) << got.error().describe();
        EXPECT_EQ(*got, want);
        auto from_memory = resolve(MbrSelector{p.number}, *mem);
        ASSERT_TRUE(from_memory) << from_memory.error().describe();
        EXPECT_EQ(*from_memory, want);
    }
    auto table = read_partition_table(*dev);
    ASSERT_TRUE(table);
    EXPECT_EQ(table->type, "dos");
    int logical = 0;
    for (const TableEntry& e : table->entries)
        logical += e.logical;
    EXPECT_EQ(logical, 2);
}

TEST(Mbr, MissingPartitionsAndWrongTable) {
    REQUIRE_TOOL("sfdisk");
    TempImage img(32 * mib);
    make_mbr(img.path());
    auto dev = open_image(img.path());
    expect_error(resolve(MbrSelector{4}, *dev), ENOENT, "no MBR partition 4 (the table has: 1, 2, 3, 5, 6)");
    expect_error(resolve(MbrSelector{7}, *dev), ENOENT, "no MBR partition 7");
    expect_error(resolve(GptSelector{1}, *dev), ENOENT, "no GPT partition table (the device has a dos table)");
    expect_error(resolve(GptNameSelector{"root"}, *dev), ENOENT, "no GPT partition table");
    // Error messages start with the device's name.
    auto r = resolve(MbrSelector{7}, *dev);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().message().starts_with(img.path() + ": ")) << r.error().message();
}

TEST(Mbr, PartitionPastTheEnd) {
    REQUIRE_TOOL("sfdisk");
    TempImage img(32 * mib);
    make_mbr(img.path());
    img.resize(9 * mib);  // logical 6 is at sectors 16384-20479, primary 3 after it
    auto dev = open_image(img.path());
    expect_error(resolve(MbrSelector{6}, *dev), ENXIO,
                 "MBR partition 6 (byte 8388608, 2097152 bytes) reaches past the end of the "
                 "device (9437184 bytes)");
    expect_error(resolve(MbrSelector{3}, *dev), ENXIO, "reaches past the end of the device");
    EXPECT_TRUE(resolve(MbrSelector{5}, *dev));
    EXPECT_TRUE(resolve(MbrSelector{1}, *dev));
}

TEST(Mbr, SmallImage) {
    REQUIRE_TOOL("sfdisk");
    TempImage img(256 * 1024);
    int status = 0;
    part_test::run("printf 'label: dos\\nstart=64, size=128, type=83\\n' | sfdisk -q '" +
                       img.path() + "' 2>&1",
                   &status);
    ASSERT_EQ(status, 0);
    auto dev = open_image(img.path());
    auto got = resolve(MbrSelector{1}, *dev);
    ASSERT_TRUE(got) << got.error().describe();
    EXPECT_EQ(*got, (Extent{64 * 512, 128 * 512}));
    auto mem = in_memory(*dev);
    EXPECT_TRUE(resolve(MbrSelector{1}, *mem));
}

TEST(Mbr, OpenPartitionReadsAndWritesInside) {
    REQUIRE_TOOL("sfdisk");
    TempImage img(32 * mib);
    make_mbr(img.path());
    auto whole = open_image(img.path(), false);
    auto p5 = open_partition(whole, MbrSelector{5});
    ASSERT_TRUE(p5) << p5.error().describe();
    const auto oracle = part_test::sfdisk_json(img.path());
    std::uint64_t start5 = 0;
    for (const auto& p : oracle)
        if (p.number == 5)
            start5 = p.start * 512;
    EXPECT_EQ((*p5)->host_offset(), start5);
    std::vector<std::byte> marker(512, std::byte{0x5c});
    ASSERT_TRUE((*p5)->write_at(0, marker));
    std::vector<std::byte> back(512);
    ASSERT_TRUE(whole->read_at(start5, back));
    EXPECT_EQ(back, marker);
}

TEST(Mbr, ListPartitions) {
    REQUIRE_TOOL("sfdisk");
    TempImage img(32 * mib);
    make_mbr(img.path());
    auto dev = open_image(img.path());
    auto list = list_partitions(*dev);
    ASSERT_TRUE(list) << list.error().describe();
    std::vector<std::string> selectors;
    for (const auto& p : *list)
        selectors.push_back(to_string(p.spec));
    EXPECT_EQ(selectors, (std::vector<std::string>{"%MBR:1%", "%MBR:3%", "%MBR:5%", "%MBR:6%"}));
}

TEST(Gpt, NumbersAndNamesMatchSfdisk) {
    REQUIRE_TOOL("sgdisk");
    REQUIRE_TOOL("sfdisk");
    TempImage img(8 * mib);
    make_gpt(img.path());
    const std::vector<SfdiskPart> oracle = part_test::sfdisk_json(img.path());
    ASSERT_EQ(oracle.size(), 3u);
    auto dev = open_image(img.path());
    auto mem = in_memory(*dev);
    for (const SfdiskPart& p : oracle) {
        SCOPED_TRACE(p.name);
        const Extent want{p.start * 512, p.size * 512};
        auto by_number = resolve(GptSelector{p.number}, *dev);
        ASSERT_TRUE(by_number) << by_number.error().describe();
        EXPECT_EQ(*by_number, want);
        auto by_name = resolve(GptNameSelector{p.name}, *dev);
        ASSERT_TRUE(by_name) << by_name.error().describe();
        EXPECT_EQ(*by_name, want);
        auto from_memory = resolve(GptNameSelector{p.name}, *mem);
        ASSERT_TRUE(from_memory) << from_memory.error().describe();
        EXPECT_EQ(*from_memory, want);
    }
    EXPECT_EQ(oracle[1].name, "root");
}

TEST(Gpt, MissingAmbiguousAndWrongTable) {
    REQUIRE_TOOL("sgdisk");
    TempImage img(8 * mib);
    make_gpt(img.path(), true);
    auto dev = open_image(img.path());
    expect_error(resolve(GptNameSelector{"root"}, *dev), EINVAL,
                 "GPT partitions 2 and 4 are both named \"root\"");
    expect_error(resolve(GptNameSelector{"swap"}, *dev), ENOENT, "no GPT partition named \"swap\"");
    expect_error(resolve(GptSelector{9}, *dev), ENOENT, "no GPT partition 9 (the table has: 1, 2, 3, 4)");
    expect_error(resolve(MbrSelector{1}, *dev), ENOENT, "no MBR partition table (the device has a gpt table)");
}

TEST(Table, NoTable) {
    MemoryDevice blank(2 * mib);
    expect_error(resolve(MbrSelector{1}, blank), ENOENT, "memory: no partition table found");
    expect_error(resolve(GptSelector{1}, blank), ENOENT, "no partition table found");
    auto list = list_partitions(blank);
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->empty());
}

TEST(Offset, ChecksAgainstTheDevice) {
    auto dev = std::make_shared<MemoryDevice>(4096);
    auto r = resolve(OffsetSelector{1024, 1024}, *dev);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (Extent{1024, 1024}));
    auto to_end = resolve(OffsetSelector{1024, 0}, *dev);
    ASSERT_TRUE(to_end);
    EXPECT_EQ(*to_end, (Extent{1024, 3072}));
    expect_error(resolve(OffsetSelector{4000, 100}, *dev), ENXIO,
                 "memory: %OFFSET:4000,100% reaches past the end of the device (4096 bytes)");
    expect_error(resolve(OffsetSelector{4096, 0}, *dev), ENXIO, "starts at or past the end");
    auto whole = open_partition(dev, WholeDevice{});
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->get(), dev.get());
    auto slice = open_partition(dev, OffsetSelector{512, 0});
    ASSERT_TRUE(slice);
    EXPECT_EQ((*slice)->size(), 3584u);
}
