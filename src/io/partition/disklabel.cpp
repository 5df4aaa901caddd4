// BSD disklabel reader. Facts: NetBSD sys/sys/disklabel.h (layout, DISKMAGIC,
// MAXMAXPARTITIONS 22) and lib/libukfs/ukfs_disklabel.c (where to look: every 4 bytes of the
// first 64 KiB, both byte orders; d_npartitions at most 22; the XOR of the 16-bit words up to
// d_partitions[d_npartitions] must be 0).
//
// Sector size. libukfs converts p_offset and p_size with DEV_BSHIFT (512-byte sectors) and
// ignores d_secsize; NetBSD's kernel (bounds_check_with_label) counts them in d_secsize units.
// We follow the kernel, which is what wrote the label: the two agree for every label on an
// image file (d_secsize 512). A d_secsize of 0 reads as 512, as libukfs would have it; any
// other value must be a power of two from 512 to 65536. libukfs also shifted the 32-bit sector
// numbers in 32 bits, so partitions past 4 GiB came out wrong; we compute in 64 bits.
#include "io/partition/disklabel.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "io/partition/selector.hpp"

namespace uk::io {

namespace {

constexpr std::uint32_t max_secsize = 65536;
constexpr std::size_t magic2_offset = offsetof(RawDisklabel, d_magic2);

std::string where(std::uint64_t position) {
    return fmt::format("disklabel at byte {}", position);
}

Error refused(std::uint64_t position, std::string_view why) {
    return Error::sys(ENOENT, fmt::format("{}: {}", where(position), why));
}

// DISKMAGIC as stored in each byte order.
struct MagicBytes {
    Order order;
    Raw32 bytes;
};
const std::array<MagicBytes, 2>& magic_patterns() {
    static const std::array<MagicBytes, 2> patterns = [] {
        std::array<MagicBytes, 2> p{MagicBytes{Order(std::endian::little), {}},
                                    MagicBytes{Order(std::endian::big), {}}};
        for (MagicBytes& m : p)
            m.order.set(m.bytes, disklabel_magic);
        return p;
    }();
    return patterns;
}

// The byte order in which both magics of a candidate header read DISKMAGIC, if any. `header`
// points at sizeof(RawDisklabel) readable bytes. The scan calls this at every 4th byte of 64
// KiB, so it compares bytes instead of building a Result per read.
std::optional<Order> magic_order(const std::byte* header) {
    for (const MagicBytes& m : magic_patterns()) {
        if (header[0] == std::byte{m.bytes.bytes[0]} &&
            std::memcmp(header, m.bytes.bytes, sizeof m.bytes.bytes) == 0 &&
            std::memcmp(header + magic2_offset, m.bytes.bytes, sizeof m.bytes.bytes) == 0)
            return m.order;
    }
    return std::nullopt;
}

// XOR of the 16-bit words of `label`, read in the label's byte order (dkcksum).
std::uint16_t xor_words(ByteView label, const Order& ord) {
    std::uint16_t sum = 0;
    for (std::uint64_t off = 0; off + sizeof(Raw16) <= label.size(); off += sizeof(Raw16)) {
        Raw16 w;
        std::memcpy(w.bytes, label.data() + off, sizeof w.bytes);
        sum ^= ord.u16(w);
    }
    return sum;
}

Result<std::uint32_t> label_secsize(const RawDisklabel& raw, const Order& ord,
                                    std::uint64_t position) {
    const std::uint32_t v = ord.u32(raw.d_secsize);
    if (v == 0)
        return disklabel_default_secsize;
    if (!std::has_single_bit(v) || v < disklabel_default_secsize || v > max_secsize)
        return Error::corrupt(where(position),
                              fmt::format("d_secsize {} is not a power of two from 512 to {}",
                                          v, max_secsize));
    return v;
}

// Check the candidate whose magics matched at `position` and decode it.
Result<Disklabel> decode_candidate(ByteView area, std::uint64_t position, const Order& ord) {
    const RawDisklabel raw = UKFS_TRY(area.read<RawDisklabel>(position));
    const std::uint16_t npart = ord.u16(raw.d_npartitions);
    if (npart > disklabel_max_partitions)
        return refused(position, fmt::format("d_npartitions {} is more than {}", npart,
                                             disklabel_max_partitions));
    const std::uint64_t length = sizeof(RawDisklabel) + npart * sizeof(RawDisklabelPartition);
    if (!area.fits(position, length))
        return refused(position, fmt::format("its {} partitions run past the {} bytes scanned",
                                             npart, area.size()));
    const ByteView bytes = UKFS_TRY(area.sub(position, length));
    if (const std::uint16_t sum = xor_words(bytes, ord); sum != 0)
        return refused(position, fmt::format("checksum mismatch (d_checksum {:#06x}, the "
                                             "label's words XOR to {:#06x} instead of 0)",
                                             ord.u16(raw.d_checksum), sum));
    Disklabel label;
    label.position = position;
    label.order = ord.endian();
    label.secsize = UKFS_TRY(label_secsize(raw, ord, position));
    for (std::uint16_t i = 0; i < npart; ++i) {
        const auto p = UKFS_TRY(bytes.read<RawDisklabelPartition>(
            sizeof(RawDisklabel) + std::uint64_t{i} * sizeof(RawDisklabelPartition)));
        // 32-bit sector numbers times a sector size of at most 2^16: no overflow in 64 bits.
        label.partitions.push_back(
            {Extent{std::uint64_t{ord.u32(p.p_offset)} * label.secsize,
                    std::uint64_t{ord.u32(p.p_size)} * label.secsize},
             p.p_fstype});
    }
    return label;
}

}  // namespace

Result<Disklabel> find_disklabel(ByteView area) {
    std::optional<Error> first_refusal;
    const std::uint64_t end =
        area.size() >= sizeof(RawDisklabel) ? area.size() - sizeof(RawDisklabel) + 1 : 0;
    for (std::uint64_t pos = 0; pos < end; pos += disklabel_scan_step) {
        // pos < end keeps a whole header inside the area.
        const std::optional<Order> ord = magic_order(area.data() + pos);
        if (!ord)
            continue;
        Result<Disklabel> label = decode_candidate(area, pos, *ord);
        if (label || label.error().errnum() != ENOENT)
            return label;
        if (!first_refusal)
            first_refusal = std::move(label).error();
    }
    if (first_refusal)
        return first_refusal->context("no valid disklabel: ");
    return Error::sys(ENOENT, fmt::format("no disklabel in the first {} bytes", area.size()));
}

Result<Disklabel> read_disklabel(BlockDevice& dev) {
    std::vector<std::byte> buf(std::min(dev.size(), disklabel_scan_bytes));
    if (auto r = dev.read_at(0, buf); !r)
        return std::move(r).error();
    Result<Disklabel> label = find_disklabel(ByteView(buf, "disklabel area"));
    if (!label)
        return std::move(label).error().context(dev.name() + ": ");
    return label;
}

Result<Extent> disklabel_partition(const Disklabel& label, char letter,
                                   std::uint64_t device_size) {
    if (letter < 'a' || letter >= static_cast<char>('a' + disklabel_max_partitions))
        return Error::sys(EINVAL, fmt::format("'{}' is not a disklabel partition letter (a to "
                                              "v)",
                                              letter));
    const auto index = static_cast<std::size_t>(letter - 'a');
    // NetBSD's ukfs_part_probe refuses only when d_npartitions < index, so a letter equal to
    // the count got through and read the entry after the table. The table has d_npartitions
    // entries, 0 .. d_npartitions - 1: index == count is missing too.
    if (index >= label.partitions.size())
        return Error::sys(ENOENT, fmt::format("{}: partition {} is missing (the label has {} "
                                              "partitions)",
                                              where(label.position), letter,
                                              label.partitions.size()));
    const DisklabelEntry& e = label.partitions[index];
    if (e.extent.size == 0)
        return Error::sys(ENOENT, fmt::format("{}: partition {} is unused (p_size 0)",
                                              where(label.position), letter));
    if (!range_fits(e.extent.offset, e.extent.size, device_size))
        return Error::sys(ENXIO, fmt::format("{}: partition {} (byte {}, {} bytes) reaches past "
                                             "the end of the device ({} bytes)",
                                             where(label.position), letter, e.extent.offset,
                                             e.extent.size, device_size));
    return e.extent;
}

}  // namespace uk::io
