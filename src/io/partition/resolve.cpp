// From a selector to a byte range of the device, and to a device limited to it. The lookups
// live with their formats (disklabel.cpp, table.cpp); this file dispatches and names the device
// in every error.
#include "io/partition/partition.hpp"

#include <fmt/format.h>

#include "base/checked.hpp"
#include "io/partition/disklabel.hpp"
#include "io/partition/table.hpp"

namespace uk::io {

namespace {

Result<Extent> offset_extent(const OffsetSelector& o, std::uint64_t device_size) {
    if (o.size == 0) {  // to the end of the device (include/ukfs/ukfs.h)
        if (o.offset >= device_size)
            return Error::sys(ENXIO, fmt::format("{} starts at or past the end of the device "
                                                 "({} bytes)",
                                                 to_string(o), device_size));
        return Extent{o.offset, device_size - o.offset};
    }
    if (!range_fits(o.offset, o.size, device_size))
        return Error::sys(ENXIO, fmt::format("{} reaches past the end of the device ({} bytes)",
                                             to_string(o), device_size));
    return Extent{o.offset, o.size};
}

struct Resolver {
    BlockDevice& dev;

    Result<Extent> operator()(const WholeDevice&) const { return Extent{0, dev.size()}; }
    Result<Extent> operator()(const OffsetSelector& o) const {
        return offset_extent(o, dev.size());
    }
    Result<Extent> operator()(const DisklabelSelector& d) const {
        const Disklabel label = UKFS_TRY(read_disklabel(dev));
        return disklabel_partition(label, d.letter, dev.size());
    }
    Result<Extent> operator()(const MbrSelector& m) const {
        const PartitionTable table = UKFS_TRY(read_partition_table(dev));
        return mbr_partition(table, m.number, dev.size());
    }
    Result<Extent> operator()(const GptSelector& g) const {
        const PartitionTable table = UKFS_TRY(read_partition_table(dev));
        return gpt_partition(table, g.number, dev.size());
    }
    Result<Extent> operator()(const GptNameSelector& g) const {
        const PartitionTable table = UKFS_TRY(read_partition_table(dev));
        return gpt_partition_named(table, g.name, dev.size());
    }
};

// Errors from the readers already start with the device's name; the lookups' do not.
Error named(Error e, const BlockDevice& dev) {
    const std::string prefix = dev.name() + ": ";
    if (!e.message().starts_with(prefix))
        e.context(prefix);
    return e;
}

void add_disklabel(const Disklabel& label, std::vector<FoundPartition>& out) {
    for (std::size_t i = 0; i < label.partitions.size(); ++i) {
        const DisklabelEntry& e = label.partitions[i];
        if (e.extent.size == 0)
            continue;
        out.push_back({DisklabelSelector{static_cast<char>('a' + i)}, e.extent,
                       fmt::format("disklabel fstype {}", e.fstype)});
    }
}

void add_table(const PartitionTable& table, std::vector<FoundPartition>& out) {
    for (const TableEntry& e : table.entries) {
        if (e.extended || e.extent.size == 0)
            continue;
        if (table.type == mbr_table_type)
            out.push_back({MbrSelector{e.number}, e.extent, fmt::format("MBR type {}", e.type)});
        else if (table.type == gpt_table_type)
            out.push_back({GptSelector{e.number}, e.extent,
                           fmt::format("GPT \"{}\" type {}", e.name, e.type)});
        else
            out.push_back({OffsetSelector{e.extent.offset, e.extent.size}, e.extent,
                           fmt::format("{} partition {}", table.type, e.number)});
    }
}

}  // namespace

Result<Extent> resolve(const PartSpec& spec, BlockDevice& whole) {
    Result<Extent> extent = std::visit(Resolver{whole}, spec);
    if (!extent)
        return named(std::move(extent).error(), whole);
    return extent;
}

Result<std::shared_ptr<BlockDevice>> open_partition(std::shared_ptr<BlockDevice> whole,
                                                    const PartSpec& spec) {
    if (std::holds_alternative<WholeDevice>(spec))
        return whole;
    const Extent extent = UKFS_TRY(resolve(spec, *whole));
    std::shared_ptr<BlockDevice> slice =
        UKFS_TRY(SliceDevice::make(std::move(whole), extent.offset, extent.size));
    return slice;
}

Result<std::vector<FoundPartition>> list_partitions(BlockDevice& whole) {
    std::vector<FoundPartition> out;
    Result<Disklabel> label = read_disklabel(whole);
    if (label)
        add_disklabel(*label, out);
    else if (label.error().errnum() != ENOENT)
        return std::move(label).error();
    Result<PartitionTable> table = read_partition_table(whole);
    if (!table) {
        if (table.error().errnum() != ENOENT)
            return std::move(table).error();
        return out;
    }
    // libblkid knows little-endian disklabels as a "bsd" table: ours already listed them.
    if (!(label && table->type == "bsd"))
        add_table(*table, out);
    return out;
}

}  // namespace uk::io
