// BSD disklabel reader: labels written by the test in both byte orders, then found, checked
// and refused as NetBSD's libukfs would (ukfs_disklabel.c), with its off-by-one fixed.
#include "io/partition/disklabel.hpp"

#include <cerrno>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "io/partition/partition.hpp"
#include "io/partition/table.hpp"
#include "part_test_support.hpp"

using namespace uk;
using namespace uk::io;
using part_test::LabelPart;
using part_test::make_disklabel;

namespace {

constexpr std::uint64_t image_size = 4 << 20;  // 8192 sectors

// A memory image with `label` written at byte `at`.
std::shared_ptr<MemoryDevice> image_with(const std::vector<std::byte>& label,
                                         std::uint64_t at = 512,
                                         std::uint64_t size = image_size) {
    auto dev = std::make_shared<MemoryDevice>(size);
    EXPECT_TRUE(dev->write_at(at, label));
    return dev;
}

const std::vector<LabelPart> three = {
    {64, 1024, 7},     // a: FFS
    {1088, 2048, 1},   // b: swap
    {0, 8192, 0},      // c: the whole disk
};

void expect_error(const Result<Extent>& r, int err, std::string_view text) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), err) << r.error().describe();
    EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
}

}  // namespace

class DisklabelOrder : public ::testing::TestWithParam<std::endian> {};

TEST_P(DisklabelOrder, FindsTheLabelAndItsPartitions) {
    auto dev = image_with(make_disklabel(GetParam(), three));
    auto label = read_disklabel(*dev);
    ASSERT_TRUE(label) << label.error().describe();
    EXPECT_EQ(label->position, 512u);
    EXPECT_EQ(label->order, GetParam());
    EXPECT_EQ(label->secsize, 512u);
    ASSERT_EQ(label->partitions.size(), 3u);
    EXPECT_EQ(label->partitions[1].fstype, 1);

    auto a = disklabel_partition(*label, 'a', dev->size());
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, (Extent{64 * 512, 1024 * 512}));
    auto b = resolve(DisklabelSelector{'b'}, *dev);
    ASSERT_TRUE(b) << b.error().describe();
    EXPECT_EQ(*b, (Extent{1088 * 512, 2048 * 512}));
    auto c = resolve(DisklabelSelector{'c'}, *dev);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, (Extent{0, image_size}));
}

TEST_P(DisklabelOrder, FoundAnywhereInTheFirst64KiBOn4ByteSteps) {
    auto dev = image_with(make_disklabel(GetParam(), three), 65536 - 148 - 3 * 16 - 4);
    EXPECT_TRUE(read_disklabel(*dev));
    auto beyond = image_with(make_disklabel(GetParam(), three), 65536);
    auto r = read_disklabel(*beyond);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), ENOENT);
    EXPECT_NE(r.error().message().find("no disklabel in the first 65536 bytes"),
              std::string::npos)
        << r.error().message();
}

TEST_P(DisklabelOrder, BadChecksumIsNoLabel) {
    auto label = make_disklabel(GetParam(), three);
    label[sizeof(RawDisklabel) + 4] ^= std::byte{0x01};  // a's p_offset
    auto dev = image_with(label);
    expect_error(resolve(DisklabelSelector{'a'}, *dev), ENOENT,
                 "memory: no valid disklabel: disklabel at byte 512: checksum mismatch");
}

TEST_P(DisklabelOrder, LetterEqualToTheCountIsMissing) {
    // NetBSD's `d_npartitions < partition` lets 'd' through on a three-partition label.
    auto dev = image_with(make_disklabel(GetParam(), three));
    expect_error(resolve(DisklabelSelector{'d'}, *dev), ENOENT,
                 "memory: disklabel at byte 512: partition d is missing (the label has 3 "
                 "partitions)");
    expect_error(resolve(DisklabelSelector{'v'}, *dev), ENOENT, "partition v is missing");
}

TEST_P(DisklabelOrder, UnusedPartitionIsMissing) {
    auto dev = image_with(make_disklabel(GetParam(), {{64, 1024}, {0, 0, 0}}));
    expect_error(resolve(DisklabelSelector{'b'}, *dev), ENOENT, "partition b is unused");
}

TEST_P(DisklabelOrder, PartitionPastTheEnd) {
    auto dev = image_with(make_disklabel(GetParam(), {{64, 1024}, {8000, 193}}));
    expect_error(resolve(DisklabelSelector{'b'}, *dev), ENXIO,
                 "partition b (byte 4096000, 98816 bytes) reaches past the end of the device "
                 "(4194304 bytes)");
    EXPECT_TRUE(resolve(DisklabelSelector{'a'}, *dev));
    auto opened = open_partition(dev, DisklabelSelector{'b'});
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().errnum(), ENXIO);
}

TEST_P(DisklabelOrder, TooManyPartitions) {
    std::vector<LabelPart> parts(23, LabelPart{64, 8});
    auto dev = image_with(make_disklabel(GetParam(), parts));
    expect_error(resolve(DisklabelSelector{'a'}, *dev), ENOENT, "d_npartitions 23 is more than 22");
    std::vector<LabelPart> most(22, LabelPart{64, 8});
    auto ok = image_with(make_disklabel(GetParam(), most));
    EXPECT_TRUE(resolve(DisklabelSelector{'v'}, *ok));
}

TEST_P(DisklabelOrder, SectorSizeScalesOffsets) {
    auto dev = image_with(make_disklabel(GetParam(), {{16, 128}}, 2048));
    auto a = resolve(DisklabelSelector{'a'}, *dev);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(*a, (Extent{16 * 2048, 128 * 2048}));

    auto zero = image_with(make_disklabel(GetParam(), {{16, 128}}, 0));
    auto z = resolve(DisklabelSelector{'a'}, *zero);
    ASSERT_TRUE(z);
    EXPECT_EQ(*z, (Extent{16 * 512, 128 * 512}));  // as libukfs: DEV_BSIZE

    auto odd = image_with(make_disklabel(GetParam(), {{16, 128}}, 1000));
    expect_error(resolve(DisklabelSelector{'a'}, *odd), EIO,
                 "disklabel at byte 512: d_secsize 1000 is not a power of two");
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, DisklabelOrder,
                         ::testing::Values(std::endian::little, std::endian::big),
                         [](const auto& info) {
                             return info.param == std::endian::little ? "Little" : "Big";
                         });

TEST(Disklabel, NoLabel) {
    MemoryDevice dev(1 << 20);
    auto r = resolve(DisklabelSelector{'a'}, dev);
    expect_error(r, ENOENT, "memory: no disklabel in the first 65536 bytes");
}

TEST(Disklabel, DeviceSmallerThanTheScanArea) {
    auto label = make_disklabel(std::endian::little, {{1, 1}});
    auto dev = image_with(label, 0, 1024);
    auto r = resolve(DisklabelSelector{'a'}, *dev);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(*r, (Extent{512, 512}));
    MemoryDevice tiny(100);  // shorter than a label header
    expect_error(resolve(DisklabelSelector{'a'}, tiny), ENOENT, "no disklabel");
}

TEST(Disklabel, ABadCandidateDoesNotHideAGoodOne) {
    auto good = make_disklabel(std::endian::little, three);
    auto stale = good;
    stale[sizeof(RawDisklabel)] ^= std::byte{0xff};
    auto dev = image_with(stale, 0);
    ASSERT_TRUE(dev->write_at(4096, good));
    auto label = read_disklabel(*dev);
    ASSERT_TRUE(label) << label.error().describe();
    EXPECT_EQ(label->position, 4096u);
}

TEST(Disklabel, LabelCutByTheEndOfTheScanArea) {
    auto label = make_disklabel(std::endian::little, three);
    MemoryDevice dev(600);
    ASSERT_TRUE(dev.write_at(420, std::span(label).first(180)));
    auto r = read_disklabel(dev);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum(), ENOENT);
    EXPECT_NE(r.error().message().find("its 3 partitions run past the 600 bytes scanned"),
              std::string::npos)
        << r.error().message();
}

TEST(Disklabel, PartitionsThroughAnImageFile) {
    part_test::TempImage img(image_size);
    img.write(512, make_disklabel(std::endian::big, three));
    std::vector<std::byte> marker(512, std::byte{0xa5});
    img.write(1088 * 512, marker);
    auto whole = ImageFile::open(img.path(), false);
    ASSERT_TRUE(whole) << whole.error().describe();
    auto b = open_partition(std::shared_ptr<BlockDevice>(std::move(*whole)),
                            DisklabelSelector{'b'});
    ASSERT_TRUE(b) << b.error().describe();
    EXPECT_EQ((*b)->size(), 2048u * 512);
    EXPECT_EQ((*b)->host_offset(), 1088u * 512);
    std::vector<std::byte> back(512);
    ASSERT_TRUE((*b)->read_at(0, back));
    EXPECT_EQ(back, marker);
}

TEST(Disklabel, AgreesWithLibblkidsBsdProber) {
    // An independent reader: libblkid's "bsd" partition table prober (little-endian labels
    // only; it numbers the used partitions from 1 and leaves out the whole-disk one).
    auto dev = image_with(make_disklabel(std::endian::little,
                                         {{64, 1024}, {1088, 2048, 1}, {0, 8192, 0}}));
    auto theirs = read_partition_table(*dev);
    ASSERT_TRUE(theirs) << theirs.error().describe();
    EXPECT_EQ(theirs->type, "bsd");
    ASSERT_GE(theirs->entries.size(), 2u);
    auto a = resolve(DisklabelSelector{'a'}, *dev);
    auto b = resolve(DisklabelSelector{'b'}, *dev);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(theirs->entries[0].extent, *a);
    EXPECT_EQ(theirs->entries[1].extent, *b);
}

TEST(Disklabel, ListPartitionsSkipsUnused) {
    auto dev = image_with(make_disklabel(std::endian::little, {{64, 1024}, {0, 0, 0}, {0, 8192, 0}}));
    auto list = list_partitions(*dev);
    ASSERT_TRUE(list) << list.error().describe();
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].spec, PartSpec(DisklabelSelector{'a'}));
    EXPECT_EQ((*list)[1].spec, PartSpec(DisklabelSelector{'c'}));
    EXPECT_EQ((*list)[1].extent, (Extent{0, image_size}));
}
