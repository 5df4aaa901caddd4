// The FFS block map and file contents (see bmap.hpp).
#include "fs/ffs/bmap.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "fs/ffs/lazy_check.hpp"

namespace uk::ffs {

namespace {

// The longest symlink target we read (NetBSD's MAXPATHLEN).
constexpr std::uint64_t symlink_max = 1024;

// Pointers of one indirect block looked at per read when mapping a run of blocks.
constexpr std::uint32_t run_ptrs = 64;

// Pointer `index` of the indirect block at `block` (range-checked here), level `level`.
Result<std::uint64_t> indirect_ptr(FfsFs& fs, const InodeData& inode, std::uint64_t block,
                                   std::uint32_t index, std::uint32_t level) {
    const Geometry& g = fs.geometry();
    auto what = [&] {
        return fmt::format("{}: level {} indirect block {}", inode.what(), level, block);
    };
    UKFS_TRY(check_frags_lazy(g, block, g.frag, what));
    std::uint64_t value = 0;
    if (g.ufs2) {
        Raw64 p;
        UKFS_TRY(fs.read_bytes(block, std::uint64_t{index} * 8,
                               std::as_writable_bytes(std::span(&p, 1))));
        value = g.order.u64(p);
    } else {
        Raw32 p;
        UKFS_TRY(fs.read_bytes(block, std::uint64_t{index} * 4,
                               std::as_writable_bytes(std::span(&p, 1))));
        value = g.order.u32(p);
    }
    return value;
}

// Where logical block `lbn` (>= ndaddr) is found: the level of its tree (0: single indirect),
// and its index below that tree's root.
struct TreePos {
    std::uint32_t level;
    std::uint64_t rest;
    std::uint64_t span;  // blocks under the root of that tree
};

Result<TreePos> tree_pos(const Geometry& g, const InodeData& inode, std::uint64_t lbn) {
    TreePos t{0, lbn - ndaddr, g.nindir};
    while (t.rest >= t.span) {
        t.rest -= t.span;
        if (++t.level == niaddr)
            return Error::corrupt(inode.what(),
                                  fmt::format("block {} is beyond the triple indirect block", lbn));
        t.span *= g.nindir;
    }
    return t;
}

// A run of blocks from a logical block: the first one's fragment address (0: holes) and how
// many blocks follow it contiguously on disk (or are holes too).
struct Run {
    std::uint64_t addr;
    std::uint64_t blocks;
};

// The run at `lbn`, at most `max` (>= 1) blocks long, and never past the direct blocks or the
// indirect block that maps `lbn`. The addresses are not range-checked here.
Result<Run> map_run(FfsFs& fs, const InodeData& inode, std::uint64_t lbn, std::uint64_t max) {
    const Geometry& g = fs.geometry();
    const auto next_of = [&](std::uint64_t addr, std::uint64_t i) {
        return addr == 0 ? 0 : addr + i * g.frag;
    };
    if (lbn < ndaddr) {
        Run r{inode.db[lbn], 1};
        while (r.blocks < max && lbn + r.blocks < ndaddr &&
               inode.db[lbn + r.blocks] == next_of(r.addr, r.blocks))
            ++r.blocks;
        return r;
    }
    TreePos t = UKFS_TRY(tree_pos(g, inode, lbn));
    // Down to the indirect block that holds the pointer to lbn.
    std::uint64_t block = inode.ib[t.level];
    for (std::uint32_t depth = 0; depth < t.level && block != 0; ++depth) {
        t.span /= g.nindir;
        const auto index = static_cast<std::uint32_t>(t.rest / t.span);
        t.rest %= t.span;
        block = UKFS_TRY(indirect_ptr(fs, inode, block, index, t.level + 1 - depth));
    }
    if (block == 0)
        return Run{0, 1};
    const auto index = static_cast<std::uint32_t>(t.rest);
    auto what = [&] { return fmt::format("{}: level 1 indirect block {}", inode.what(), block); };
    UKFS_TRY(check_frags_lazy(g, block, g.frag, what));
    const auto count =
        static_cast<std::uint32_t>(std::min<std::uint64_t>({max, g.nindir - index, run_ptrs}));
    std::array<std::byte, run_ptrs * 8> raw;
    const std::span<std::byte> ptrs(raw.data(), std::size_t{count} * g.ptr_size);
    UKFS_TRY(fs.read_bytes(block, std::uint64_t{index} * g.ptr_size, ptrs));
    const auto ptr = [&](std::uint32_t i) -> std::uint64_t {
        if (g.ufs2) {
            Raw64 p;
            std::memcpy(&p, ptrs.data() + std::size_t{i} * 8, 8);
            return g.order.u64(p);
        }
        Raw32 p;
        std::memcpy(&p, ptrs.data() + std::size_t{i} * 4, 4);
        return g.order.u32(p);
    };
    Run r{ptr(0), 1};
    while (r.blocks < count &&
           ptr(static_cast<std::uint32_t>(r.blocks)) == next_of(r.addr, r.blocks))
        ++r.blocks;
    return r;
}

// Bytes at byte `in` of the fragments from `addr`. When they end the file inside a fragment,
// that last fragment is read around the cache too (the rest of it is not data, and caching it
// would only push out what is worth keeping when a whole tree is read).
Result<void> read_run(FfsFs& fs, std::uint64_t addr, std::uint64_t in, std::span<std::byte> out,
                      bool ends_file) {
    const Geometry& g = fs.geometry();
    const std::uint64_t end = in + out.size();
    const std::uint64_t whole = end & ~std::uint64_t{g.fsize - 1};
    if (!ends_file || end == whole || in % g.fsize != 0)
        return fs.read_bytes(addr, in, out);
    const auto head = static_cast<std::size_t>(whole - in);
    UKFS_TRY(fs.read_bytes(addr, in, out.first(head)));
    std::vector<std::byte> last(g.fsize);
    UKFS_TRY(fs.cache().read_direct(addr + (whole >> g.fshift), last));
    std::memcpy(out.data() + head, last.data(), out.size() - head);
    return {};
}

}  // namespace

Result<std::uint64_t> map_block(FfsFs& fs, const InodeData& inode, std::uint64_t lbn) {
    const Geometry& g = fs.geometry();
    std::uint64_t addr = 0;
    if (lbn < ndaddr) {
        addr = inode.db[lbn];
    } else {
        // Find the level whose span holds lbn, then walk down from di_ib[level].
        TreePos t = UKFS_TRY(tree_pos(g, inode, lbn));
        addr = inode.ib[t.level];
        for (std::uint32_t depth = 0; depth <= t.level && addr != 0; ++depth) {
            t.span /= g.nindir;
            const auto index = static_cast<std::uint32_t>(t.rest / t.span);
            t.rest %= t.span;
            addr = UKFS_TRY(indirect_ptr(fs, inode, addr, index, t.level + 1 - depth));
        }
    }
    if (addr != 0)
        UKFS_TRY(
            check_frags_lazy(g, addr, g.numfrags(g.fragroundup(g.blksize(inode.size, lbn))), [&] {
                return fmt::format("{}: block {} at fragment {}", inode.what(), lbn, addr);
            }));
    return addr;
}

Result<std::size_t> read_data(FfsFs& fs, const InodeData& inode, std::uint64_t offset,
                              std::span<std::byte> dst) {
    const Geometry& g = fs.geometry();
    if (offset >= inode.size || dst.empty())
        return std::size_t{0};
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(dst.size(), inode.size - offset));
    // Runs of blocks that lie one after the other on disk are read in one request.
    const std::uint64_t last = g.lblkno(offset + n - 1);
    std::size_t done = 0;
    while (done < n) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t lbn = g.lblkno(pos);
        const std::uint64_t in = g.blkoff(pos);
        const Run r = UKFS_TRY(map_run(fs, inode, lbn, last - lbn + 1));
        const auto take = static_cast<std::size_t>(
            std::min<std::uint64_t>(n - done, (r.blocks << g.bshift) - in));
        std::span<std::byte> out = dst.subspan(done, take);
        if (r.addr == 0) {
            std::fill(out.begin(), out.end(), std::byte{0});
        } else {
            // The fragments read, which the file's size bounds (a tail block's fragments).
            UKFS_TRY(check_frags_lazy(g, r.addr, g.numfrags(g.fragroundup(in + take)), [&] {
                return fmt::format("{}: block {} at fragment {}", inode.what(), lbn, r.addr);
            }));
            UKFS_TRY(read_run(fs, r.addr, in, out, pos + take == inode.size));
        }
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
