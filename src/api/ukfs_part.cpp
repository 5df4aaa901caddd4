// The C partition functions of include/ukfs/ukfs.h: ukfs_part_probe, ukfs_part_tostring,
// ukfs_part_release, and the pseudo parts ukfs_part_none and ukfs_part_na. Contract: NetBSD
// lib/libukfs/ukfs.c (1.58). Differences, each deliberate:
//   - ukfs_part_probe changes the caller's string only when it succeeds (NetBSD may leave it
//     cut, or with '\0' over its ',' and '%', after an error).
//   - %MBR and %GPT selectors are read from the device at probe time, like %DISKLABEL, so a
//     missing partition is reported by the probe, where NetBSD reports a missing label.
//   - ukfs_part_tostring never writes to a buffer of size 0, and prints an %OFFSET whose size
//     is "to the end" as "[start,EOF]"; NetBSD's form is "[start,end]".
//   - A NULL part is accepted everywhere as ukfs_part_none.

#include <ukfs/ukfs.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "api/c_call.hpp"
#include "api/part.hpp"
#include "io/block_device.hpp"
#include "io/partition/partition.hpp"

namespace {

using uk::Error;
using uk::Result;
namespace io = uk::io;

ukfs_part part_none_storage(ukfs_part::Kind::none);
ukfs_part part_na_storage(ukfs_part::Kind::na);

bool reads_device(const io::PartSpec& spec) {
    return !std::holds_alternative<io::WholeDevice>(spec) &&
           !std::holds_alternative<io::OffsetSelector>(spec);
}

// Open the image read-only and find the selected range, as NetBSD does for a disklabel.
Result<io::Extent> probe_extent(const std::string& path, const io::PartSpec& spec) {
    const auto dev = UKFS_TRY(io::ImageFile::open(path, true));
    return io::resolve(spec, *dev);
}

Result<int> probe(char* devpath, ukfs_part** partp) {
    if (!devpath || !partp)
        return Error::sys(EINVAL, "ukfs_part_probe: NULL argument");
    std::size_t cut = 0;
    io::PartSpec spec = UKFS_TRY(io::parse_selector(devpath, &cut));
    if (std::holds_alternative<io::WholeDevice>(spec)) {
        *partp = ukfs_part_none;
        return 0;
    }
    auto part = std::make_unique<ukfs_part>();
    if (reads_device(spec))
        part->extent = UKFS_TRY(probe_extent(std::string(devpath, cut), spec));
    part->spec = std::move(spec);
    devpath[cut] = '\0';
    *partp = part.release();
    return 0;
}

// NetBSD's text: "%DISKLABEL:x%" for a label, "[start,end]" for an offset; ours for the rest.
std::string part_text(const ukfs_part& part) {
    if (const auto* o = std::get_if<io::OffsetSelector>(&part.spec)) {
        if (o->size == 0)
            return fmt::format("[{},EOF]", o->offset);
        return fmt::format("[{},{}]", o->offset, o->offset + o->size);
    }
    return io::to_string(part.spec);
}

Result<int> tostring(ukfs_part* part, char* str, std::size_t strsize) {
    if (str && strsize > 0)
        *str = '\0';
    if (part == ukfs_part_na || (part && part->kind == ukfs_part::Kind::na))
        return Error::sys(EINVAL, "ukfs_part_tostring: ukfs_part_na has no text");
    if (!part || part->kind == ukfs_part::Kind::none ||
        std::holds_alternative<io::WholeDevice>(part->spec))
        return 0;
    if (str && strsize > 0)
        std::snprintf(str, strsize, "%s", part_text(*part).c_str());
    return 1;
}

}  // namespace

extern "C" {

struct ukfs_part* ukfs_part_none = &part_none_storage;
struct ukfs_part* ukfs_part_na = &part_na_storage;

int ukfs_part_probe(char* devpath, struct ukfs_part** partp) {
    return uk::api::c_call<int>([&] { return probe(devpath, partp); });
}

int ukfs_part_tostring(struct ukfs_part* part, char* str, size_t strsize) {
    return uk::api::c_call<int>([&] { return tostring(part, str, strsize); });
}

void ukfs_part_release(struct ukfs_part* part) {
    if (!part || part->kind != ukfs_part::Kind::selector)
        return;
    if (part->refcount.fetch_sub(1, std::memory_order_acq_rel) == 1)
        delete part;
}

}  // extern "C"

namespace uk::api {

ukfs_part* part_retain(ukfs_part* part) {
    if (part && part->kind == ukfs_part::Kind::selector)
        part->refcount.fetch_add(1, std::memory_order_relaxed);
    return part;
}

bool part_is_na(const ukfs_part* part) {
    return part && part->kind == ukfs_part::Kind::na;
}

Result<std::shared_ptr<io::BlockDevice>> part_device(std::shared_ptr<io::BlockDevice> whole,
                                                     const ukfs_part* part) {
    if (!part || part->kind != ukfs_part::Kind::selector)
        return whole;
    if (!part->extent)
        return io::open_partition(std::move(whole), part->spec);
    std::shared_ptr<io::BlockDevice> slice = UKFS_TRY(
        io::SliceDevice::make(std::move(whole), part->extent->offset, part->extent->size));
    return slice;
}

}  // namespace uk::api
