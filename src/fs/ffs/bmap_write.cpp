// Writing file contents and changing a file's size (see bmap.hpp). Facts: NetBSD
// sys/ufs/ffs/ffs_balloc.c (full blocks but for a small file's tail, the tail grown before a
// later block is written), ffs_alloc.c (ffs_realloccg: extend in place, else move),
// ffs_inode.c (ffs_truncate, ffs_indirtrunc).
#include <algorithm>
#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "fs/ffs/bmap.hpp"

namespace uk::ffs {

namespace {

std::uint32_t frags_of(const Geometry& g, std::uint64_t bytes) {
    return static_cast<std::uint32_t>(g.numfrags(g.fragroundup(bytes)));
}

std::uint64_t sectors(const Geometry& g, std::uint64_t frags) {
    return (frags << g.fshift) / dev_bsize;
}

// Fragments held by direct block `lbn` of a file of `size` bytes (when it is mapped).
std::uint32_t held(const Geometry& g, const InodeData& n, std::uint64_t lbn) {
    return frags_of(g, g.blksize(n.size, lbn));
}

// Grow direct block `lbn` to `want` fragments: in place if the fragments after it are free,
// else moved to a new run with its contents (ffs_realloccg).
Result<void> grow_direct(FfsFs& fs, InodeData& n, std::uint64_t lbn, std::uint32_t want) {
    const Geometry& g = fs.geometry();
    const std::uint64_t addr = n.db[lbn];
    const std::uint32_t have = held(g, n, lbn);
    if (want <= have)
        return {};
    UKFS_TRY(g.check_frags(addr, have, n.what()));
    if (UKFS_TRY(fs.extend_frags(addr, have, want))) {
        UKFS_TRY(fs.zero_frags(addr + have, want - have));
    } else {
        const std::uint64_t to = UKFS_TRY(fs.alloc_frags(addr, want));
        std::vector<std::byte> old(std::size_t{have} << g.fshift);
        UKFS_TRY(fs.read_bytes(addr, 0, old));
        UKFS_TRY(fs.zero_frags(to, want));
        UKFS_TRY(fs.write_bytes(to, 0, old));
        UKFS_TRY(fs.free_frags(addr, have));
        n.db[lbn] = to;
    }
    n.blocks_512 += sectors(g, want - have);
    return {};
}

// The preferred place for block `lbn`: after the block before it, else the inode's group.
std::uint64_t pref_for(FfsFs& fs, const InodeData& n, std::uint64_t lbn) {
    const Geometry& g = fs.geometry();
    if (lbn > 0 && lbn - 1 < ndaddr && n.db[lbn - 1] != 0)
        return n.db[lbn - 1] + g.frag;
    if (lbn > ndaddr) {  // appending past the direct blocks: after the last block written
        auto prev = map_block(fs, n, lbn - 1);
        if (prev && *prev != 0)
            return *prev + g.frag;
    }
    return fs.inode_pref(n.ino);
}

Result<std::uint64_t> new_block(FfsFs& fs, InodeData& n, std::uint64_t pref) {
    const Geometry& g = fs.geometry();
    const std::uint64_t b = UKFS_TRY(fs.alloc_frags(pref, g.frag));
    UKFS_TRY(fs.zero_frags(b, g.frag));
    n.blocks_512 += sectors(g, g.frag);
    return b;
}

// The data block of `lbn` (>= ndaddr), allocating it and the indirect blocks on the way.
Result<std::uint64_t> indirect_block(FfsFs& fs, InodeData& n, std::uint64_t lbn,
                                     std::uint64_t& pref) {
    const Geometry& g = fs.geometry();
    std::uint64_t rest = lbn - ndaddr;
    std::uint64_t span = g.nindir;
    std::uint32_t level = 0;
    while (rest >= span) {
        rest -= span;
        if (++level == niaddr)
            return Error::sys(EFBIG);
        span *= g.nindir;
    }
    // Past the single indirect block a big file moves to another group every fs_maxbpg blocks
    // (ffs_blkpref): the block starting a section, and the indirect blocks made for it, go to
    // the next group with at least the average of free blocks, after the group of the block
    // before it (or, at the start of an indirect block, the inode's group moved on by lbn /
    // fs_maxbpg).
    const std::uint64_t last_index = rest % g.nindir;
    if (lbn >= ndaddr + std::uint64_t{g.nindir} && last_index % g.maxbpg == 0) {
        const std::uint64_t start = last_index > 0 && pref > g.frag && pref - g.frag < g.size
                                        ? (pref - g.frag) / g.fpg + 1
                                        : g.ino_to_cg(n.ino) + lbn / g.maxbpg;
        const std::uint64_t section = fs.section_pref(static_cast<std::uint32_t>(start % g.ncg));
        if (section != 0)
            pref = section;
    }
    if (n.ib[level] == 0) {
        n.ib[level] = UKFS_TRY(new_block(fs, n, pref));
        pref = n.ib[level] + g.frag;
    }
    std::uint64_t addr = n.ib[level];
    for (std::uint32_t depth = 0; depth <= level; ++depth) {
        span /= g.nindir;
        const auto index = static_cast<std::uint32_t>(rest / span);
        rest %= span;
        const std::string what = fmt::format("{}: indirect block {}", n.what(), addr);
        std::uint64_t p = UKFS_TRY(fs.read_ptr(addr, index, what));
        if (p == 0) {
            p = UKFS_TRY(new_block(fs, n, pref));
            pref = p + g.frag;
            UKFS_TRY(fs.write_ptr(addr, index, p));
        } else {
            UKFS_TRY(g.check_frags(p, g.frag, what));
        }
        addr = p;
    }
    return addr;
}

// Free the tree under `addr` of height `h` (0: a data block) covering blocks from `base` where
// they are at or past `keep`; true when `addr` itself was freed.
Result<bool> free_tree(FfsFs& fs, InodeData& n, std::uint64_t addr, std::uint32_t h,
                       std::uint64_t base, std::uint64_t keep) {
    const Geometry& g = fs.geometry();
    UKFS_TRY(g.check_frags(addr, g.frag, n.what()));
    if (h > 0) {
        std::uint64_t child_span = 1;
        for (std::uint32_t i = 1; i < h; ++i)
            child_span *= g.nindir;
        for (std::uint32_t i = 0; i < g.nindir; ++i) {
            const std::uint64_t child_base = base + i * child_span;
            if (child_base + child_span <= keep)
                continue;
            const std::string what = fmt::format("{}: indirect block {}", n.what(), addr);
            const std::uint64_t p = UKFS_TRY(fs.read_ptr(addr, i, what));
            if (p == 0)
                continue;
            if (UKFS_TRY(free_tree(fs, n, p, h - 1, child_base, keep)) && base < keep)
                UKFS_TRY(fs.write_ptr(addr, i, 0));
        }
    }
    if (base < keep)
        return false;
    UKFS_TRY(fs.free_frags(addr, g.frag));
    n.blocks_512 -= std::min(n.blocks_512, sectors(g, g.frag));
    return true;
}

}  // namespace

Result<std::size_t> write_data(FfsFs& fs, InodeData& n, std::uint64_t offset,
                               std::span<const std::byte> src) {
    const Geometry& g = fs.geometry();
    if (src.empty())
        return std::size_t{0};
    if (offset > g.maxfilesize || src.size() > g.maxfilesize - offset + 1)
        return Error::sys(EFBIG);
    std::size_t done = 0;
    std::uint64_t pref = 0;
    while (done < src.size()) {
        const std::uint64_t pos = offset + done;
        const std::uint64_t lbn = g.lblkno(pos);
        const std::uint64_t in = g.blkoff(pos);
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(src.size() - done, g.bsize - in));
        // A tail in fragments stops being the tail: make it a whole block first (and give the
        // fragments back if the block after it cannot be had).
        std::uint64_t grown = ~std::uint64_t{0};
        std::uint32_t grown_from = 0;
        if (n.size > 0) {
            const std::uint64_t last = g.lblkno(n.size - 1);
            if (last < lbn && last < ndaddr && n.db[last] != 0 && held(g, n, last) < g.frag) {
                grown_from = held(g, n, last);
                UKFS_TRY(grow_direct(fs, n, last, g.frag));
                grown = last;
            }
        }
        const std::uint64_t new_size = std::max<std::uint64_t>(n.size, pos + take);
        auto undo = [&](const Error& e) -> Result<std::size_t> {
            if (grown != ~std::uint64_t{0}) {
                UKFS_TRY(fs.free_frags(n.db[grown] + grown_from, g.frag - grown_from));
                n.blocks_512 -= std::min(n.blocks_512, sectors(g, g.frag - grown_from));
            }
            if (done > 0)
                return done;
            return e;
        };
        std::uint64_t addr = 0;
        if (lbn < ndaddr) {
            const std::uint32_t want = frags_of(g, g.blksize(new_size, lbn));
            if (n.db[lbn] == 0) {
                auto got = fs.alloc_frags(pref_for(fs, n, lbn), want);
                if (!got)
                    return undo(got.error());
                const std::uint64_t b = *got;
                UKFS_TRY(fs.zero_frags(b, want));
                n.db[lbn] = b;
                n.blocks_512 += sectors(g, want);
            } else if (auto r = grow_direct(fs, n, lbn, want); !r) {
                return undo(r.error());
            }
            addr = n.db[lbn];
        } else {
            if (pref == 0)
                pref = pref_for(fs, n, lbn);
            auto got = indirect_block(fs, n, lbn, pref);
            if (!got)
                return undo(got.error());
            addr = *got;
            pref = addr + g.frag;
        }
        UKFS_TRY(fs.write_bytes(addr, in, src.subspan(done, take)));
        n.size = new_size;
        done += take;
    }
    return done;
}

Result<void> resize(FfsFs& fs, InodeData& n, std::uint64_t size) {
    const Geometry& g = fs.geometry();
    if (size > g.maxfilesize)
        return Error::sys(EFBIG);
    const std::uint64_t old = n.size;
    if (size == old)
        return {};
    if (size > old) {  // a hole; only a tail in fragments may need to grow
        if (old > 0) {
            const std::uint64_t last = g.lblkno(old - 1);
            if (last < ndaddr && n.db[last] != 0)
                UKFS_TRY(grow_direct(fs, n, last, frags_of(g, g.blksize(size, last))));
        }
        n.size = size;
        return {};
    }
    const std::uint64_t keep = (size + g.bsize - 1) >> g.bshift;  // blocks that stay
    for (std::uint64_t lbn = keep; lbn < ndaddr; ++lbn) {
        if (n.db[lbn] == 0)
            continue;
        const std::uint32_t have = held(g, n, lbn);
        UKFS_TRY(fs.free_frags(n.db[lbn], have));
        n.blocks_512 -= std::min(n.blocks_512, sectors(g, have));
        n.db[lbn] = 0;
    }
    std::uint64_t base = ndaddr;
    std::uint64_t span = g.nindir;
    for (std::uint32_t level = 0; level < niaddr; ++level) {
        if (n.ib[level] != 0 && base + span > keep) {
            if (UKFS_TRY(free_tree(fs, n, n.ib[level], level + 1, base, keep)))
                n.ib[level] = 0;
        }
        base += span;
        span *= g.nindir;
    }
    // The new tail: give back fragments past it, and zero the bytes past the end in what is
    // kept (a later extension must read them as zeros).
    if (size > 0) {
        const std::uint64_t last = g.lblkno(size - 1);
        if (last < ndaddr && n.db[last] != 0) {
            const std::uint32_t have = held(g, n, last);
            const std::uint32_t want = frags_of(g, g.blksize(size, last));
            if (want < have) {
                UKFS_TRY(fs.free_frags(n.db[last] + want, have - want));
                n.blocks_512 -= std::min(n.blocks_512, sectors(g, have - want));
            }
        }
    }
    n.size = size;
    if (g.blkoff(size) != 0) {
        const std::uint64_t last = g.lblkno(size - 1);
        const std::uint64_t addr = UKFS_TRY(map_block(fs, n, last));
        if (addr != 0) {
            const std::uint64_t end = g.fragroundup(g.blksize(size, last));
            const std::vector<std::byte> zeros(end - g.blkoff(size));
            UKFS_TRY(fs.write_bytes(addr, g.blkoff(size), zeros));
        }
    }
    return {};
}

}  // namespace uk::ffs
