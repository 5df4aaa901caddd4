// MBR and GPT through libblkid. Facts: libblkid(3) (util-linux 2.38): blkid_probe_set_device
// takes a descriptor plus the window to probe; blkid_probe_get_partitions runs the partition
// probers on their own; blkid_partition_get_start/size are in 512-byte sectors; partno follows
// the Linux kernel's numbering; a partition whose blkid_partition_get_table differs from the
// list's table belongs to a nested table (a BSD label inside an MBR slice, say).
#include "io/partition/table.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <fmt/format.h>

#include "base/checked.hpp"

namespace uk::io {

namespace {

constexpr std::uint64_t blkid_sector = 512;
constexpr std::uint64_t copy_chunk = std::uint64_t{1} << 20;

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        std::swap(m_fd, o.m_fd);
        return *this;
    }
    ~UniqueFd() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    int get() const { return m_fd; }

private:
    int m_fd = -1;
};

struct ProbeFree {
    void operator()(blkid_probe p) const { blkid_free_probe(p); }
};
using ProbePtr = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree>;

Result<void> pwrite_all(int fd, std::span<const std::byte> src, std::uint64_t off) {
    std::size_t done = 0;
    while (done < src.size()) {
        const ssize_t n = ::pwrite(fd, src.data() + done, src.size() - done,
                                   static_cast<off_t>(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Error::sys(n < 0 ? errno : EIO, "writing the memfd for libblkid");
        done += static_cast<std::size_t>(n);
    }
    return {};
}

// libblkid reads through a descriptor; a device without one is copied into a memfd. The whole
// device, since an extended partition's chain of EBRs may be anywhere in it; chunks of zeros
// are left as holes, so a mostly empty device costs little.
Result<UniqueFd> copy_to_memfd(BlockDevice& dev) {
    UniqueFd fd(::memfd_create("ukfs-partition-probe", MFD_CLOEXEC));
    if (fd.get() < 0)
        return Error::sys(errno, "memfd_create for libblkid");
    if (::ftruncate(fd.get(), static_cast<off_t>(dev.size())) != 0)
        return Error::sys(errno, "sizing the memfd for libblkid");
    std::vector<std::byte> buf(std::min(dev.size(), copy_chunk));
    for (std::uint64_t off = 0; off < dev.size(); off += buf.size()) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(copy_chunk,
                                                                        dev.size() - off));
        const std::span<std::byte> part(buf.data(), n);
        UKFS_TRY(dev.read_at(off, part));
        if (std::all_of(part.begin(), part.end(), [](std::byte b) { return b == std::byte{}; }))
            continue;
        UKFS_TRY(pwrite_all(fd.get(), part, off));
    }
    return fd;
}

Result<std::uint64_t> sectors_to_bytes(blkid_loff_t sectors, std::string_view what,
                                       std::uint32_t partno) {
    if (sectors < 0)
        return Error::corrupt(fmt::format("partition {}", partno),
                              fmt::format("negative {} {}", what, sectors));
    auto bytes = checked_mul(static_cast<std::uint64_t>(sectors), blkid_sector);
    if (!bytes)
        return Error::corrupt(fmt::format("partition {}", partno),
                              fmt::format("{} of {} sectors overflows", what, sectors));
    return *bytes;
}

Result<TableEntry> entry_from(blkid_partition par) {
    const int partno = blkid_partition_get_partno(par);
    if (partno <= 0)
        return Error::corrupt("partition table", fmt::format("partition number {}", partno));
    TableEntry e;
    e.number = static_cast<std::uint32_t>(partno);
    e.extent.offset = UKFS_TRY(sectors_to_bytes(blkid_partition_get_start(par), "start",
                                                e.number));
    e.extent.size = UKFS_TRY(sectors_to_bytes(blkid_partition_get_size(par), "size", e.number));
    if (const char* name = blkid_partition_get_name(par))
        e.name = name;
    if (const char* type = blkid_partition_get_type_string(par))
        e.type = type;
    else
        e.type = fmt::format("{:#x}", blkid_partition_get_type(par));
    e.logical = blkid_partition_is_logical(par) != 0;
    e.extended = blkid_partition_is_extended(par) != 0;
    return e;
}

Result<PartitionTable> probe_table(int fd, std::uint64_t offset, std::uint64_t size) {
    ProbePtr pr(blkid_new_probe());
    if (!pr)
        return Error::sys(ENOMEM, "libblkid: cannot allocate a probe");
    if (blkid_probe_set_device(pr.get(), fd, static_cast<blkid_loff_t>(offset),
                               static_cast<blkid_loff_t>(size)) != 0)
        return Error::sys(EIO, "libblkid: cannot set up the probe");
    blkid_partlist ls = blkid_probe_get_partitions(pr.get());
    blkid_parttable tab = ls ? blkid_partlist_get_table(ls) : nullptr;
    if (!tab)
        return Error::sys(ENOENT, "no partition table found");
    PartitionTable table;
    if (const char* type = blkid_parttable_get_type(tab))
        table.type = type;
    const int count = blkid_partlist_numof_partitions(ls);
    for (int i = 0; i < count; ++i) {
        blkid_partition par = blkid_partlist_get_partition(ls, i);
        if (!par || blkid_partition_get_table(par) != tab)
            continue;  // a nested table's partition
        table.entries.push_back(UKFS_TRY(entry_from(par)));
    }
    return table;
}

std::string numbers_of(const PartitionTable& table) {
    std::string s;
    for (const TableEntry& e : table.entries)
        s += fmt::format("{}{}", s.empty() ? "" : ", ", e.number);
    return s.empty() ? "none" : s;
}

Result<void> want_type(const PartitionTable& table, std::string_view want,
                       std::string_view label) {
    if (table.type == want)
        return {};
    return Error::sys(ENOENT, fmt::format("no {} partition table (the device has a {} table)",
                                          label, table.type));
}

Result<Extent> checked_extent(const TableEntry& e, std::string_view label,
                              std::uint64_t device_size) {
    if (e.extended)
        return Error::sys(EINVAL, fmt::format("{} partition {} is an extended partition (a "
                                              "container of logical partitions, numbered "
                                              "from 5)",
                                              label, e.number));
    if (e.extent.size == 0)
        return Error::sys(ENOENT, fmt::format("{} partition {} is empty", label, e.number));
    if (!range_fits(e.extent.offset, e.extent.size, device_size))
        return Error::sys(ENXIO, fmt::format("{} partition {} (byte {}, {} bytes) reaches past "
                                             "the end of the device ({} bytes)",
                                             label, e.number, e.extent.offset, e.extent.size,
                                             device_size));
    return e.extent;
}

Result<Extent> by_number(const PartitionTable& table, std::uint32_t number,
                         std::string_view label, std::uint64_t device_size) {
    for (const TableEntry& e : table.entries)
        if (e.number == number)
            return checked_extent(e, label, device_size);
    return Error::sys(ENOENT, fmt::format("no {} partition {} (the table has: {})", label,
                                          number, numbers_of(table)));
}

}  // namespace

Result<PartitionTable> read_partition_table(BlockDevice& dev) {
    Result<PartitionTable> table = [&]() -> Result<PartitionTable> {
        if (dev.fd() >= 0)
            return probe_table(dev.fd(), dev.host_offset(), dev.size());
        const UniqueFd copy = UKFS_TRY(copy_to_memfd(dev));
        return probe_table(copy.get(), 0, dev.size());
    }();
    if (!table)
        return std::move(table).error().context(dev.name() + ": ");
    return table;
}

Result<Extent> mbr_partition(const PartitionTable& table, std::uint32_t number,
                             std::uint64_t device_size) {
    UKFS_TRY(want_type(table, mbr_table_type, "MBR"));
    return by_number(table, number, "MBR", device_size);
}

Result<Extent> gpt_partition(const PartitionTable& table, std::uint32_t number,
                             std::uint64_t device_size) {
    UKFS_TRY(want_type(table, gpt_table_type, "GPT"));
    return by_number(table, number, "GPT", device_size);
}

Result<Extent> gpt_partition_named(const PartitionTable& table, std::string_view name,
                                   std::uint64_t device_size) {
    UKFS_TRY(want_type(table, gpt_table_type, "GPT"));
    const TableEntry* found = nullptr;
    for (const TableEntry& e : table.entries) {
        if (e.name != name)
            continue;
        if (found)
            return Error::sys(EINVAL, fmt::format("GPT partitions {} and {} are both named "
                                                  "\"{}\"; select one by number",
                                                  found->number, e.number, name));
        found = &e;
    }
    if (!found)
        return Error::sys(ENOENT, fmt::format("no GPT partition named \"{}\"", name));
    return checked_extent(*found, "GPT", device_size);
}

}  // namespace uk::io
