// BSD disklabel: the on-disk structure and a reader that finds it the way NetBSD's libukfs
// does (lib/libukfs/ukfs_disklabel.c: scan the first 64 KiB in 4-byte steps, either byte
// order, checksum verified). Layout: NetBSD sys/sys/disklabel.h (struct disklabel, 1.118).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.hpp"
#include "base/endian.hpp"
#include "base/result.hpp"
#include "io/block_device.hpp"
#include "io/partition/extent.hpp"

namespace uk::io {

inline constexpr std::uint32_t disklabel_magic = 0x82564557;  // DISKMAGIC
inline constexpr std::uint64_t disklabel_scan_bytes = 65536;   // ukfs.c: char buf[65536]
inline constexpr std::uint64_t disklabel_scan_step = 4;        // SCAN_INCR
inline constexpr std::uint32_t disklabel_default_secsize = 512;  // DEV_BSIZE

// struct disklabel up to d_partitions (sys/disklabel.h; the _LOCORE offsets confirm
// d_secsize at 40 and the partitions at 148). Either byte order: read through an Order.
struct RawDisklabel {
    Raw32 d_magic;
    Raw16 d_type;
    Raw16 d_subtype;
    std::uint8_t d_typename[16];
    std::uint8_t d_packname[16];
    Raw32 d_secsize;
    Raw32 d_nsectors;
    Raw32 d_ntracks;
    Raw32 d_ncylinders;
    Raw32 d_secpercyl;
    Raw32 d_secperunit;
    Raw16 d_sparespertrack;
    Raw16 d_sparespercyl;
    Raw32 d_acylinders;
    Raw16 d_rpm;
    Raw16 d_interleave;
    Raw16 d_trackskew;
    Raw16 d_cylskew;
    Raw32 d_headswitch;
    Raw32 d_trkseek;
    Raw32 d_flags;
    Raw32 d_drivedata[5];  // NDDATA
    Raw32 d_spare[5];      // NSPARE
    Raw32 d_magic2;
    Raw16 d_checksum;  // XOR of the 16-bit words of the label, partitions included, is 0
    Raw16 d_npartitions;
    Raw32 d_bbsize;
    Raw32 d_sbsize;
};
static_assert(sizeof(RawDisklabel) == 148);

// struct partition: offsets and sizes in sectors.
struct RawDisklabelPartition {
    Raw32 p_size;
    Raw32 p_offset;
    Raw32 p_fsize;
    std::uint8_t p_fstype;  // FS_UNUSED 0, FS_BSDFFS 7, FS_MSDOS 8, FS_EX2FS 17, ...
    std::uint8_t p_frag;
    Raw16 p_cpg;
};
static_assert(sizeof(RawDisklabelPartition) == 16);

// A validated label. Partition offsets are relative to the start of the device (NetBSD's
// labels hold absolute sectors), already converted to bytes.
struct DisklabelEntry {
    Extent extent;
    std::uint8_t fstype = 0;
};

struct Disklabel {
    std::uint64_t position = 0;  // byte offset of the label on the device
    std::endian order = std::endian::little;
    std::uint32_t secsize = disklabel_default_secsize;
    std::vector<DisklabelEntry> partitions;  // d_npartitions entries, letter 'a' first
};

// Find a label in `area` (the device's first bytes). ENOENT when no candidate is valid (the
// message says why the first candidate was refused); EIO for a label whose checksum holds but
// whose d_secsize is impossible.
Result<Disklabel> find_disklabel(ByteView area);

// Read the first 64 KiB of `dev` (less if it is smaller) and find the label in it.
Result<Disklabel> read_disklabel(BlockDevice& dev);

// Partition `letter` of `label` on a device of `device_size` bytes. ENOENT when the label has
// no such partition or it is unused (p_size 0); ENXIO when it reaches past the device's end.
Result<Extent> disklabel_partition(const Disklabel& label, char letter,
                                   std::uint64_t device_size);

}  // namespace uk::io
