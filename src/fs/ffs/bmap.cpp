// The FFS block map and file contents (see bmap.hpp).
#include "fs/ffs/bmap.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace uk::ffs {

namespace {

// The longest symlink target we read (NetBSD's MAXPATHLEN).
constexpr std::uint64_t symlink_max = 1024;

}  // namespace

Result<std::uint64_t> map_block(FfsFs& fs, const InodeData& inode, std::uint64_t lbn) {
    const Geometry& g = fs.geometry();
    std::uint64_t addr = 0;
    if (lbn < ndaddr) {
        addr = inode.db[lbn];
    } else {
        // Find the level whose span holds lbn, then walk down from di_ib[level].
        std::uint64_t rest = lbn - ndaddr;
        std::uint64_t span = g.nindir;
        std::uint32_t level = 0;
        while (rest >= span) {
            rest -= span;
            if (++level == niaddr)
                return Error::corrupt(inode.what(),
                                      fmt::format("block {} is beyond the triple indirect "
                                                  "block",
                                                  lbn));
            span *= g.nindir;
        }
        addr = inode.ib[level];
        for (std::uint32_t depth = 0; depth <= level && addr != 0; ++depth) {
            span /= g.nindir;
            const auto index = static_cast<std::uint32_t>(rest / span);
            rest %= span;
            const std::string what = fmt::format("{}: level {} indirect block {}", inode.what(),
                                                 level + 1 - depth, addr);
            addr = UKFS_TRY(fs.read_ptr(addr, index, what));
        }
    }
    if (addr != 0)
        UKFS_TRY(
            g.check_frags(addr, g.numfrags(g.fragroundup(g.blksize(inode.size, lbn))),
                          fmt::format("{}: block {} at fragment {}", inode.what(), lbn, addr)));
    return addr;
}

Result<std::size_t> read_data(FfsFs& fs, const InodeData& inode, std::uint64_t offset,
                              std::span<std::byte> dst) {
    const Geometry& g = fs.geometry();
    if (offset >= inode.size || dst.empty())
        return std::size_t{0};
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(), inode.size - offset));
    std::size_t done = 0;
    while (done < n) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t lbn = g.lblkno(pos);
        const std::uint64_t in = g.blkoff(pos);
        const std::uint32_t bs = g.blksize(inode.size, lbn);
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, bs - in));
        const std::uint64_t addr = UKFS_TRY(map_block(fs, inode, lbn));
        std::span<std::byte> out = dst.subspan(done, take);
        if (addr == 0)
            std::fill(out.begin(), out.end(), std::byte{0});
        else
            UKFS_TRY(fs.read_bytes(addr, in, out));
        done += take;
    }
    return n;
}

Result<std::string> read_symlink(FfsFs& fs, const InodeData& inode) {
    const Geometry& g = fs.geometry();
    if (inode.size == 0 || inode.size > symlink_max)
        return Error::corrupt(inode.what(), fmt::format("symlink size {} is not from 1 to {}",
                                                        inode.size, symlink_max));
    std::string target(static_cast<std::size_t>(inode.size), '\0');
    if (fast_symlink(g, inode)) {
        const std::uint32_t room = (ndaddr + niaddr) * g.ptr_size;
        if (inode.size > room)
            return Error::corrupt(inode.what(), fmt::format("a short symlink's size {} is over "
                                                            "the {} bytes of the inode",
                                                            inode.size, room));
        std::memcpy(target.data(), inode.ptr_bytes.data(), target.size());
        return target;
    }
    const std::size_t got =
        UKFS_TRY(read_data(fs, inode, 0, std::as_writable_bytes(std::span(target))));
    target.resize(got);
    return target;
}

}  // namespace uk::ffs
