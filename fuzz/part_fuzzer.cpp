// libFuzzer target for the partition layer. The input is used twice:
//   - as a device path for the selector parser (errors must be the documented errnos, and an
//     accepted selector must read back the same from its text);
//   - as a disk image in a MemoryDevice, for the BSD disklabel reader and for libblkid's MBR
//     and GPT probers (libblkid reads a descriptor: the layer copies the image to a memfd).
// Every extent a lookup returns must lie inside the device, and reading its first and last
// byte through open_partition must work.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "base/checked.hpp"
#include "io/block_device.hpp"
#include "io/partition/disklabel.hpp"
#include "io/partition/partition.hpp"
#include "io/partition/selector.hpp"
#include "io/partition/table.hpp"

using namespace uk;
using namespace uk::io;

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

void fuzz_selector(std::string_view text) {
    std::size_t cut = 0;
    Result<PartSpec> spec = parse_selector(text, &cut);
    if (!spec) {
        const int e = spec.error().errnum();
        check(e == ENODEV || e == EINVAL || e == ERANGE || e == EADDRNOTAVAIL);
        check(!spec.error().message().empty());
        return;
    }
    check(cut <= text.size());
    std::size_t back_cut = 1;
    Result<PartSpec> back = parse_selector(to_string(*spec), &back_cut);
    check(back && *back == *spec && back_cut == 0);
}

// An extent from a lookup: inside the device, and readable through a slice.
void check_extent(const std::shared_ptr<BlockDevice>& dev, const Result<Extent>& extent) {
    if (!extent)
        return;
    check(extent->size > 0 && range_fits(extent->offset, extent->size, dev->size()));
    auto slice = SliceDevice::make(dev, extent->offset, extent->size);
    check(static_cast<bool>(slice));
    std::byte b[1];
    check(static_cast<bool>((*slice)->read_at(0, b)));
    check(static_cast<bool>((*slice)->read_at((*slice)->size() - 1, b)));
}

void fuzz_disklabel(const std::shared_ptr<BlockDevice>& dev) {
    Result<Disklabel> label = read_disklabel(*dev);
    if (!label) {
        check(label.error().errnum() == ENOENT || label.error().errnum() == EIO);
        return;
    }
    check(label->partitions.size() <= disklabel_max_partitions);
    for (char letter = 'a'; letter <= 'v'; ++letter)
        check_extent(dev, disklabel_partition(*label, letter, dev->size()));
}

void fuzz_table(const std::shared_ptr<BlockDevice>& dev) {
    Result<PartitionTable> table = read_partition_table(*dev);
    if (!table)
        return;
    for (const TableEntry& e : table->entries) {
        check_extent(dev, mbr_partition(*table, e.number, dev->size()));
        check_extent(dev, gpt_partition(*table, e.number, dev->size()));
        check_extent(dev, gpt_partition_named(*table, e.name, dev->size()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_selector(std::string_view(reinterpret_cast<const char*>(data), size));
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    auto dev = std::make_shared<MemoryDevice>(std::vector<std::byte>(bytes, bytes + size), true);
    fuzz_disklabel(dev);
    fuzz_table(dev);
    (void)list_partitions(*dev);
    return 0;
}
