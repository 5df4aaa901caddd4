// The WAPBL log reader and the replayed view (wapbl.hpp). Facts: NetBSD sys/sys/wapbl_replay.h,
// sys/kern/vfs_wapbl.c (wapbl_replay_start, wapbl_replay_process, wapbl_circ_read),
// sys/ufs/ffs/ffs_wapbl.c; the code is ours.
#include "fs/ffs/wapbl.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace uk::ffs {
namespace {

constexpr std::uint32_t max_log_blk = 65536;  // MAXBSIZE: NetBSD's scratch buffer
// struct wapbl_wc_header field offsets.
constexpr std::size_t hdr_type = 0, hdr_generation = 12, hdr_log_bshift = 40, hdr_fs_bshift = 44,
                      hdr_head = 48, hdr_tail = 56, hdr_circ_off = 64, hdr_circ_size = 72,
                      hdr_size = 80;
// struct wapbl_wc_blocklist / wapbl_wc_inodelist: type, len, count, then 16- or 8-byte entries.
constexpr std::size_t rec_head = 16, blk_entry = 16, ino_entry = 8;

Error bad(std::string_view where, std::string_view what) {
    return Error::corrupt(fmt::format("ffs: WAPBL {}", where), what);
}

std::uint32_t get32(const Order& o, std::span<const std::byte> b, std::size_t at) {
    Raw32 r;
    std::memcpy(r.bytes, b.data() + at, 4);
    return o.u32(r);
}
std::uint64_t get64(const Order& o, std::span<const std::byte> b, std::size_t at) {
    Raw64 r;
    std::memcpy(r.bytes, b.data() + at, 8);
    return o.u64(r);
}

}  // namespace

Result<std::shared_ptr<const WapblLog>> WapblLog::read(io::BlockDevice& dev, const Superblock& sb,
                                                       const Order& o) {
    if (sb.fs_journal_version != ufs_wapbl_version)
        return Error::sys(EINVAL, fmt::format("ffs: WAPBL: fs_journal_version {} is not {}",
                                              sb.fs_journal_version, ufs_wapbl_version));
    if (sb.fs_journal_location != wapbl_journalloc_end_partition &&
        sb.fs_journal_location != wapbl_journalloc_in_filesystem)
        return Error::sys(EINVAL, fmt::format("ffs: WAPBL: unknown fs_journal_location {}",
                                              sb.fs_journal_location));
    const std::uint64_t addr = o.u64(sb.fs_journallocs[wapbl_loc_addr]);
    const std::uint64_t count = o.u64(sb.fs_journallocs[wapbl_loc_count]);
    const std::uint64_t blksize = o.u64(sb.fs_journallocs[wapbl_loc_blksz]);
    const std::string_view where = "location (fs_journallocs)";
    if (blksize < dev_bsize || blksize > max_log_blk || !std::has_single_bit(blksize))
        return bad(where,
                   fmt::format("block size {} is not a power of two from 512 to 65536", blksize));
    const std::uint64_t dev_blocks = dev.size() / blksize;
    if (addr > dev_blocks || count > dev_blocks - addr)
        return bad(where,
                   fmt::format("{} blocks at block {} reach past the device's end", count, addr));
    if (count < 3)
        return bad(where, fmt::format("{} blocks cannot hold two headers and a record", count));

    std::shared_ptr<WapblLog> log(new WapblLog());
    log->m_start = addr * blksize;
    log->m_dev_size = dev.size();
    const std::uint64_t log_bytes = count * blksize;

    // Both commit headers, each in its own log block.
    std::vector<std::byte> hdrs(2 * blksize);
    UKFS_TRY(dev.read_at(log->m_start, hdrs));
    const std::span<const std::byte> h0(hdrs.data(), blksize);
    const std::span<const std::byte> h1(hdrs.data() + blksize, blksize);
    Raw32 magic;
    std::memcpy(magic.bytes, h0.data() + hdr_type, 4);
    if (Order(std::endian::little).u32(magic) == wapbl_wc_header)
        log->m_order = Order(std::endian::little);
    else if (Order(std::endian::big).u32(magic) == wapbl_wc_header)
        log->m_order = Order(std::endian::big);
    else
        return bad("commit header", fmt::format("no \"WABL\" magic (found {:#010x})",
                                                Order(std::endian::little).u32(magic)));
    const Order lo = log->m_order;
    // As wapbl_replay_start: the second header is current when its generation is larger.
    std::span<const std::byte> h = h0;
    if (get32(lo, h1, hdr_type) == wapbl_wc_header &&
        get32(lo, h1, hdr_generation) > get32(lo, h0, hdr_generation))
        h = h1;
    static_assert(hdr_size <= dev_bsize);

    const std::uint32_t log_bshift = get32(lo, h, hdr_log_bshift);
    const std::uint32_t fs_bshift = get32(lo, h, hdr_fs_bshift);
    if (log_bshift >= 32 || (std::uint64_t{1} << log_bshift) != blksize)
        return bad("commit header", fmt::format("wc_log_dev_bshift {} does not match the "
                                                "superblock's block size {}",
                                                log_bshift, blksize));
    if (fs_bshift < log_bshift || fs_bshift > 16)
        return bad("commit header",
                   fmt::format("wc_fs_dev_bshift {} is not from {} to 16", fs_bshift, log_bshift));
    log->m_log_blk = 1u << log_bshift;
    log->m_fs_blk = 1u << fs_bshift;
    const std::uint64_t circ_off = get64(lo, h, hdr_circ_off);
    const std::uint64_t circ_size = get64(lo, h, hdr_circ_size);
    if (circ_off < 2 * blksize || circ_off % blksize != 0 || circ_size == 0 ||
        circ_size % blksize != 0 || circ_off > log_bytes || circ_size > log_bytes - circ_off)
        return bad("commit header",
                   fmt::format("circular area of {} bytes at {} is not inside the {}-byte log "
                               "after its headers",
                               circ_size, circ_off, log_bytes));
    log->m_circ_off = circ_off;
    log->m_circ_size = circ_size;
    const std::uint64_t head = get64(lo, h, hdr_head);
    const std::uint64_t tail = get64(lo, h, hdr_tail);
    const auto inside = [&](std::uint64_t v) {
        return v >= circ_off && v - circ_off < circ_size && v % blksize == 0;
    };
    if (head == 0 && tail == 0)
        return std::shared_ptr<const WapblLog>(std::move(log));  // empty
    if (!inside(head) || !inside(tail))
        return bad("commit header", fmt::format("head {} or tail {} is not a block of the "
                                                "circular area ({} bytes at {})",
                                                head, tail, circ_size, circ_off));
    UKFS_TRY(log->process(dev, head, tail));
    return std::shared_ptr<const WapblLog>(std::move(log));
}

std::uint64_t WapblLog::circ_advance(std::uint64_t off, std::uint64_t len) const {
    // `off` is inside the area and `len` at most its size: one wrap at most.
    const std::uint64_t end = m_circ_off + m_circ_size;
    const std::uint64_t room = end - off;
    if (len >= room)
        return m_circ_off + (len - room);
    return off + len;
}

Result<void> WapblLog::circ_read(io::BlockDevice& dev, std::uint64_t off,
                                 std::span<std::byte> dst) const {
    const std::uint64_t room = m_circ_off + m_circ_size - off;
    if (room < dst.size()) {
        UKFS_TRY(dev.read_at(m_start + off, dst.first(room)));
        dst = dst.subspan(room);
        off = m_circ_off;
    }
    return dev.read_at(m_start + off, dst);
}

// wapbl_replay_process: the records from tail to head, each one log block of header (and for
// WAPBL_WC_BLOCKS the blocks' contents after it), wc_len bytes in all.
Result<void> WapblLog::process(io::BlockDevice& dev, std::uint64_t head, std::uint64_t tail) {
    const Order& o = m_order;
    std::vector<std::byte> rec(m_log_blk);
    const std::uint64_t bph = (m_log_blk - rec_head) / blk_entry;
    const std::uint64_t iph = (m_log_blk - rec_head) / ino_entry;
    std::uint64_t off = tail;
    std::uint64_t walked = 0;  // bytes of records read: never more than the area
    while (off != head) {
        const std::string where = fmt::format("record at log offset {}", off);
        UKFS_TRY(circ_read(dev, off, rec));
        const std::uint32_t type = get32(o, rec, 0);
        const std::uint64_t len = get32(o, rec, 4);  // int32 on disk: negative is huge here
        if (len < m_log_blk || len % m_log_blk != 0 || len > m_circ_size - walked)
            return bad(where, fmt::format("wc_len {} is not a whole number of log blocks "
                                          "inside what is left of the log",
                                          static_cast<std::int32_t>(len)));
        std::uint64_t used = m_log_blk;
        std::uint64_t data = circ_advance(off, m_log_blk);
        if (type == wapbl_wc_blocks || type == wapbl_wc_revocations) {
            const std::uint32_t n = get32(o, rec, 8);
            if (n > bph)
                return bad(where, fmt::format("wc_blkcount {} is over the {} a log block holds",
                                              static_cast<std::int32_t>(n), bph));
            for (std::uint32_t i = 0; i < n; ++i) {
                const std::size_t e = rec_head + i * blk_entry;
                const std::uint64_t daddr = get64(o, rec, e);
                const std::uint64_t dlen = get32(o, rec, e + 12);
                if (daddr >= (m_dev_size / dev_bsize) || dlen % m_fs_blk != 0 ||
                    dlen > m_dev_size - daddr * dev_bsize || (daddr * dev_bsize) % m_fs_blk != 0)
                    return bad(where, fmt::format("block {} ({} bytes at sector {}) is not a whole "
                                                  "number of {}-byte blocks inside the device",
                                                  i, static_cast<std::int32_t>(dlen),
                                                  static_cast<std::int64_t>(daddr), m_fs_blk));
                const std::uint64_t first = daddr * dev_bsize / m_fs_blk;
                const std::uint64_t nblk = dlen / m_fs_blk;
                if (type == wapbl_wc_revocations) {
                    m_map.erase(m_map.lower_bound(first), m_map.lower_bound(first + nblk));
                    continue;
                }
                if (dlen > len - used)
                    return bad(where, fmt::format("its blocks reach past wc_len {}", len));
                for (std::uint64_t j = 0; j < nblk; ++j) {
                    m_map[first + j] = data;
                    data = circ_advance(data, m_fs_blk);
                }
                used += dlen;
            }
        } else if (type == wapbl_wc_inodes) {
            const std::uint32_t n = get32(o, rec, 8);
            if (n > iph)
                return bad(where, fmt::format("wc_inocnt {} is over the {} a log block holds",
                                              static_cast<std::int32_t>(n), iph));
            if (get32(o, rec, 12) != 0)
                m_inodes.clear();
            for (std::uint32_t i = 0; i < n; ++i)
                m_inodes.emplace_back(get32(o, rec, rec_head + i * ino_entry),
                                      get32(o, rec, rec_head + i * ino_entry + 4));
        } else {
            return bad(where, fmt::format("unknown record type {:#010x}", type));
        }
        if (used != len)
            return bad(where, fmt::format("wc_len {} but its contents take {} bytes", len, used));
        walked += len;
        off = circ_advance(off, len);
        if (walked >= m_circ_size && off != head)
            return bad(where, "the records do not end at wc_head");
    }
    return {};
}

Result<void> WapblLog::read_replayed(io::BlockDevice& dev, std::uint64_t offset,
                                     std::span<std::byte> dst) const {
    const std::uint64_t B = m_fs_blk;
    std::vector<std::byte> blk;
    while (!dst.empty()) {
        const std::uint64_t b = offset / B;
        auto it = m_map.lower_bound(b);
        // The stretch up to the next logged block (or the end) comes from the device.
        const std::uint64_t next = it == m_map.end() ? ~std::uint64_t{0} : it->first;
        if (next != b) {
            const std::uint64_t end = offset + dst.size();
            const bool past = next >= end / B + (end % B != 0 ? 1 : 0);  // next * B >= end
            const std::uint64_t until = past ? end : next * B;
            const std::size_t n = static_cast<std::size_t>(until - offset);
            UKFS_TRY(dev.read_at(offset, dst.first(n)));
            dst = dst.subspan(n);
            offset += n;
            continue;
        }
        blk.resize(B);
        UKFS_TRY(circ_read(dev, it->second, blk));
        const std::uint64_t in = offset - b * B;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(B - in, dst.size()));
        std::memcpy(dst.data(), blk.data() + in, n);
        dst = dst.subspan(n);
        offset += n;
    }
    return {};
}

Result<void> WapblOverlay::read_at(std::uint64_t offset, std::span<std::byte> dst) {
    if (offset > size() || dst.size() > size() - offset)
        return Error::sys(EIO, fmt::format("{}: read of {} bytes at {} past the end", name(),
                                           dst.size(), offset));
    return m_log->read_replayed(base(), offset, dst);
}

}  // namespace uk::ffs
