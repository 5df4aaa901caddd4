// Volume descriptor sets and sessions (see volume.hpp). Facts: ECMA-119 8.1-8.5; Joliet
// escape sequences "%/@", "%/C", "%/E" for UCS-2 levels 1-3.
#include "fs/cd9660/volume.hpp"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "fs/cd9660/format.hpp"

namespace uk::cd9660 {

namespace {

Result<std::array<std::byte, sector_size>> read_sector(io::BlockDevice& dev, std::uint64_t lba,
                                                      std::string_view what) {
    std::array<std::byte, sector_size> buf{};
    if (lba >= dev.size() / sector_size)
        return Error::corrupt(what, fmt::format("block {} is past the end of the image ({} "
                                                "blocks)",
                                                lba, dev.size() / sector_size));
    UKFS_TRY(dev.read_at(lba_to_byte(lba), buf));
    return buf;
}

// Check the root record of a descriptor: a directory inside the image.
Result<std::vector<std::byte>> root_record(std::span<const std::byte> vd, std::string_view what,
                                           std::uint64_t dev_blocks) {
    const auto bytes = vd.subspan(vd_root_record, dr_min_length);
    const Record r = UKFS_TRY(parse_record(bytes, what));
    if (!r.is_dir())
        return Error::corrupt(what, "the root directory record is not a directory");
    if (r.data_lba() + blocks_for(r.size) > dev_blocks || r.size == 0)
        return Error::corrupt(what, fmt::format("the root directory (block {}, {} bytes) is not "
                                                "inside the image",
                                                r.extent, r.size));
    return std::vector<std::byte>(bytes.begin(), bytes.end());
}

int joliet_level_of(std::span<const std::byte> svd) {
    if ((u8_at(svd, vd_flags) & 1) != 0)  // escape sequences not registered in ISO 2375
        return 0;
    const std::string_view esc = chars_at(svd, vd_escapes, 3);
    if (esc == "%/@")
        return 1;
    if (esc == "%/C")
        return 2;
    if (esc == "%/E")
        return 3;
    return 0;
}

}  // namespace

bool has_iso_signature(io::BlockDevice& dev) {
    std::array<std::byte, 6> b{};
    if (dev.size() < lba_to_byte(vd_first_lba) + sector_size)
        return false;
    if (!dev.read_at(lba_to_byte(vd_first_lba), b))
        return false;
    return std::memcmp(b.data() + 1, "CD001", 5) == 0;
}

Result<Descriptors> read_descriptor_set(io::BlockDevice& dev, std::uint64_t session_lba) {
    const std::uint64_t dev_blocks = dev.size() / sector_size;
    Descriptors d;
    d.session_lba = session_lba;
    bool have_primary = false;
    for (std::uint32_t i = 0; i < max_descriptors; ++i) {
        const std::uint64_t lba = session_lba + vd_first_lba + i;
        const std::string what = fmt::format("cd9660: volume descriptor at block {}", lba);
        if (lba >= dev_blocks) {
            if (i == 0)
                return Error::not_this_fs("cd9660: the image is too small for ISO 9660");
            return Error::corrupt(what, "the volume descriptor set has no terminator before the "
                                        "end of the image");
        }
        const auto vd = UKFS_TRY(read_sector(dev, lba, what));
        const std::span<const std::byte> v(vd);
        if (chars_at(v, 1, 5) != "CD001") {
            if (i == 0)
                return Error::not_this_fs("cd9660: no \"CD001\" volume descriptor at block 16");
            return Error::corrupt(what, "not a volume descriptor (no \"CD001\"): the volume "
                                        "descriptor set has no terminator");
        }
        const std::uint8_t type = u8_at(v, 0);
        if (type == vd_terminator) {
            if (!have_primary)
                return Error::corrupt(what, "the volume descriptor set ends without a primary "
                                            "volume descriptor");
            return d;
        }
        if (type == vd_primary && !have_primary) {
            const std::uint16_t bs = le16_at(v, vd_block_size);
            if (bs != sector_size)
                return Error::sys(ENOTSUP, fmt::format("{}: logical block size {} (only {} is "
                                                       "supported)",
                                                       what, bs, sector_size));
            d.space_size = le32_at(v, vd_space_size);
            d.root = UKFS_TRY(root_record(v, what, dev_blocks));
            std::string id(chars_at(v, vd_volume_id, 32));
            while (!id.empty() && (id.back() == ' ' || id.back() == '\0'))
                id.pop_back();
            d.volume_id = std::move(id);
            have_primary = true;
        } else if (type == vd_supplementary && d.joliet_level == 0) {
            const int level = joliet_level_of(v);
            if (level != 0 && le16_at(v, vd_block_size) == sector_size) {
                auto root = root_record(v, what, dev_blocks);
                if (root) {  // a broken Joliet tree is ignored, as if it were absent
                    d.joliet_level = level;
                    d.joliet_root = std::move(*root);
                }
            }
        }
    }
    return Error::corrupt(fmt::format("cd9660: volume descriptor set at block {}",
                                      session_lba + vd_first_lba),
                          fmt::format("no terminator within {} descriptors", max_descriptors));
}

namespace {

// A valid set at `n` + 16 that starts a session after `prev`?
bool is_next_session(io::BlockDevice& dev, std::uint64_t n, Descriptors& out) {
    std::array<std::byte, 6> sig{};
    if (!dev.read_at(lba_to_byte(n + vd_first_lba), sig))
        return false;
    if (static_cast<std::uint8_t>(sig[0]) != vd_primary ||
        std::memcmp(sig.data() + 1, "CD001", 5) != 0)
        return false;
    auto d = read_descriptor_set(dev, n);
    if (!d)
        return false;
    const std::uint32_t root_extent = le32_at(d->root, dr_extent);
    if (root_extent < n + vd_first_lba)
        return false;
    out = std::move(*d);
    return true;
}

}  // namespace

Result<Descriptors> read_last_session(io::BlockDevice& dev) {
    Descriptors cur = UKFS_TRY(read_descriptor_set(dev, 0));
    const std::uint64_t dev_blocks = dev.size() / sector_size;
    for (int s = 1; s < max_sessions; ++s) {
        const std::uint64_t start = cur.session_lba;
        const std::uint64_t v = cur.space_size;
        bool found = false;
        Descriptors next;
        for (const std::uint64_t from : {v, start + v}) {
            const std::uint64_t lo = std::max(from, start + vd_first_lba + 2);
            for (std::uint64_t n = lo; n < lo + session_gap_window && !found; ++n) {
                if (n + vd_first_lba + 1 >= dev_blocks)
                    break;
                found = is_next_session(dev, n, next);
            }
            if (found)
                break;
        }
        if (!found)
            return cur;
        next.sessions = s + 1;
        cur = std::move(next);
    }
    return cur;
}

}  // namespace uk::cd9660
