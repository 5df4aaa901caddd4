// File contents (see data.hpp).
#include "fs/ext2fs/data.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "fs/ext2fs/bmap.hpp"

namespace uk::ext2fs {

namespace {

// One step of a block-mapped read: fill the start of `out` (file position
// `pos`) from the run that maps it; returns how many bytes were filled (at
// least one). `to_eof`: `out` ends at the end of the file.
Result<std::size_t> read_step(Ext2Fs& fs, const InodeData& inode, std::uint64_t pos,
                              std::span<std::byte> out, bool to_eof) {
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
    if (in == 0 && to_eof && chunk == out.size()) {
        // The whole rest of the file in its last block: nothing here will be read again, so
        // it passes by the cache (a tree of small files would otherwise fill it, a block each).
        thread_local std::vector<std::byte> tail;
        tail.resize(g.block_size);
        UKFS_TRY(fs.cache().read_direct(run.pblock, tail));
        std::memcpy(out.data(), tail.data(), chunk);
        return chunk;
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
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(), inode.size - offset));
    if (inode.inline_data()) {
        const std::vector<std::byte> bytes = UKFS_TRY(inline_content(inode));
        std::memcpy(dst.data(), bytes.data() + offset, n);
        return n;
    }
    std::size_t done = 0;
    while (done < n)
        done += UKFS_TRY(read_step(fs, inode, offset + done, dst.subspan(done, n - done),
                                   offset + n == inode.size));
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
    if (inode.fast_symlink()) {  // the target is in i_block
        std::memcpy(out.data(), inode.i_block.data(), out.size());
        return target;
    }
    const std::size_t got = UKFS_TRY(read_data(fs, inode, 0, out));
    target.resize(got);
    return target;
}

std::uint64_t max_file_size(const Geometry& g, const InodeData& inode) {
    if (inode.uses_extents())
        return extent_space << g.log_block_size;
    const std::uint32_t shift = g.log_block_size - 2;
    std::uint64_t blocks = n_direct;
    for (std::uint32_t d = 1; d <= 3; ++d)
        blocks += std::uint64_t{1} << (shift * d);
    return std::min(blocks << g.log_block_size, std::uint64_t{1} << 62);
}

Result<std::size_t> write_data(Ext2Fs& fs, InodeData& inode, std::uint64_t offset,
                               std::span<const std::byte> src) {
    const Geometry& g = fs.geometry();
    if (inode.inline_data())
        return Error::sys(EROFS, inode.what() + ": writing inline data is not supported yet");
    if (src.empty())
        return std::size_t{0};
    const std::uint64_t limit = max_file_size(g, inode);
    if (offset >= limit || src.size() > limit - offset)
        return Error::sys(EFBIG);
    const std::uint64_t bs = g.block_size;
    std::size_t done = 0;
    while (done < src.size()) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t lblock = pos >> g.log_block_size;
        const std::uint64_t in = pos & (bs - 1);
        const std::uint64_t wanted = (in + (src.size() - done) + bs - 1) >> g.log_block_size;
        auto mapped = map_alloc(fs, inode, lblock, wanted);
        if (!mapped) {
            if (done == 0)
                return mapped.error();
            break;  // a short write: what was written stays (ENOSPC on the next call)
        }
        const AllocRun run = *mapped;
        // Fill the run: a partial first block, whole blocks straight to the device,
        // a partial last block. Fresh blocks hold stale bytes, so their partial
        // blocks start zeroed.
        std::uint64_t k = 0;
        std::uint64_t at = in;
        while (k < run.count && done < src.size()) {
            const std::size_t left = src.size() - done;
            if (at == 0 && left >= bs) {
                const std::uint64_t whole = std::min<std::uint64_t>(run.count - k, left / bs);
                UKFS_TRY(fs.cache().write_direct(
                    run.pblock + k, src.subspan(done, static_cast<std::size_t>(whole * bs))));
                done += static_cast<std::size_t>(whole * bs);
                k += whole;
                continue;
            }
            io::BufRef buf = run.fresh ? UKFS_TRY(fs.cache().get_zeroed(run.pblock + k))
                                       : UKFS_TRY(fs.block(run.pblock + k, inode.what()));
            const std::size_t take =
                static_cast<std::size_t>(std::min<std::uint64_t>(left, bs - at));
            std::memcpy(buf.mark_dirty().data() + at, src.data() + done, take);
            done += take;
            at = 0;
            ++k;
        }
    }
    inode.size = std::max<std::uint64_t>(inode.size, offset + done);
    return done;
}

Result<void> resize(Ext2Fs& fs, InodeData& inode, std::uint64_t size) {
    const Geometry& g = fs.geometry();
    if (inode.inline_data())
        return Error::sys(EROFS, inode.what() + ": changing inline data is not supported yet");
    if (size > max_file_size(g, inode))
        return Error::sys(EFBIG);
    if (size < inode.size) {
        const std::uint64_t keep = (size + g.block_size - 1) >> g.log_block_size;
        UKFS_TRY(truncate_blocks(fs, inode, keep));
        const std::uint64_t in = size & (g.block_size - 1);
        if (in != 0) {
            const Run run = UKFS_TRY(map_block(fs, inode, size >> g.log_block_size));
            if (!run.hole()) {
                io::BufRef buf = UKFS_TRY(fs.block(run.pblock, inode.what() + ": data"));
                const std::span<std::byte> bytes = buf.mark_dirty();
                std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(in), bytes.end(),
                          std::byte{0});
            }
        }
    }
    inode.size = size;
    return {};
}

}  // namespace uk::ext2fs
