// File contents (see data.hpp).
#include "fs/ext2fs/data.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "fs/ext2fs/bmap.hpp"

namespace uk::ext2fs {

namespace {

// One step of a block-mapped read: fill the start of `out` (file position `pos`) from the run
// that maps it; returns how many bytes were filled (at least one).
Result<std::size_t> read_step(Ext2Fs& fs, const InodeData& inode, std::uint64_t pos,
                              std::span<std::byte> out) {
    const Geometry& g = fs.geometry();
    const std::uint64_t lblock = pos >> g.log_block_size;
    const std::uint64_t in = pos & (g.block_size - 1);
    const Run run = UKFS_TRY(map_block(fs, inode, lblock));
    const std::uint64_t wanted_blocks = (in + out.size() + g.block_size - 1) >> g.log_block_size;
    const std::uint64_t blocks = std::min(run.count, wanted_blocks);
    const std::size_t chunk = static_cast<std::size_t>(
        std::min<std::uint64_t>(out.size(), (blocks << g.log_block_size) - in));
    if (run.hole()) {
        std::fill_n(out.begin(), chunk, std::byte{0});
        return chunk;
    }
    if (in == 0 && chunk >= g.block_size) {
        const std::size_t whole = chunk & ~std::size_t{g.block_size - 1};
        UKFS_TRY(fs.cache().read_direct(run.pblock, out.first(whole)));
        return whole;
    }
    io::BufRef buf = UKFS_TRY(fs.block(run.pblock, inode.what() + ": data"));
    const std::size_t take = std::min<std::size_t>(chunk, g.block_size - in);
    std::memcpy(out.data(), buf.data().data() + in, take);
    return take;
}

}  // namespace

Result<std::vector<std::byte>> inline_content(const InodeData& inode) {
    std::vector<std::byte> bytes(inode.i_block.begin(), inode.i_block.end());
    const XattrValue extra = UKFS_TRY(find_ibody_xattr(inode, xattr_index_system, "data"));
    if (!extra.found)
        return Error::corrupt(inode.what(), "has inline data but no system.data attribute");
    bytes.insert(bytes.end(), extra.value.begin(), extra.value.end());
    if (inode.type != VType::dir && inode.size > bytes.size())
        return Error::corrupt(inode.what(), fmt::format("i_size {} is more than its {} inline "
                                                        "bytes",
                                                        inode.size, bytes.size()));
    return bytes;
}

Result<std::size_t> read_data(Ext2Fs& fs, const InodeData& inode, std::uint64_t offset,
                              std::span<std::byte> dst) {
    if (offset >= inode.size || dst.empty())
        return std::size_t{0};
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(),
                                                                    inode.size - offset));
    if (inode.inline_data()) {
        const std::vector<std::byte> bytes = UKFS_TRY(inline_content(inode));
        std::memcpy(dst.data(), bytes.data() + offset, n);
        return n;
    }
    std::size_t done = 0;
    while (done < n)
        done += UKFS_TRY(read_step(fs, inode, offset + done, dst.subspan(done, n - done)));
    return n;
}

Result<std::string> read_symlink(Ext2Fs& fs, const InodeData& inode) {
    if (inode.size == 0 || inode.size > symlink_max)
        return Error::corrupt(inode.what(), fmt::format("symlink size {} is not from 1 to {}",
                                                        inode.size, symlink_max));
    std::string target(static_cast<std::size_t>(inode.size), '\0');
    auto out = std::as_writable_bytes(std::span(target));
    if (inode.inline_data()) {
        const std::vector<std::byte> bytes = UKFS_TRY(inline_content(inode));
        std::memcpy(out.data(), bytes.data(), out.size());
        return target;
    }
    if (inode.size < i_block_bytes) {  // a fast symlink: the target is in i_block
        std::memcpy(out.data(), inode.i_block.data(), out.size());
        return target;
    }
    const std::size_t got = UKFS_TRY(read_data(fs, inode, 0, out));
    target.resize(got);
    return target;
}

}  // namespace uk::ext2fs
