// SUSP and RRIP entries (see susp.hpp). Entry layouts: SUSP 1.12 section 5 (CE, PD, SP, ST,
// ER, ES), RRIP 1.12 section 4 (PX, PN, SL, NM, CL, PL, RE, TF, SF, RR).
#include "fs/cd9660/susp.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "fs/cd9660/format.hpp"

namespace uk::cd9660 {

namespace {

struct State {
    RockRidge rr;
    bool nm_done = false;       // an NM without CONTINUE ended the name
    bool sl_done = false;       // an SL without CONTINUE ended the target
    bool sl_separator = false;  // the next SL component starts a new path component
    bool ce = false;            // a continuation is pending
    std::uint32_t ce_lba = 0, ce_off = 0, ce_len = 0;
};

Result<void> parse_sl(State& st, std::span<const std::byte> e, std::string_view where) {
    RockRidge& rr = st.rr;
    if (st.sl_done)
        return {};  // a second symlink record set: NetBSD keeps the first
    rr.sl = true;
    const std::uint8_t flags = u8_at(e, 4);
    std::size_t off = 5;
    while (off + 2 <= e.size()) {
        const std::uint8_t cflags = u8_at(e, off);
        const std::uint8_t len = u8_at(e, off + 1);
        if (off + 2 + len > e.size())
            return Error::corrupt(where, "Rock Ridge SL component runs past its entry");
        std::string_view part;
        if ((cflags & 0x08) != 0) {  // ROOT: a '/' (a leading one, or "//" inside a path)
            if (st.sl_separator)
                rr.symlink += '/';
            rr.symlink += '/';
            st.sl_separator = false;
        } else {
            if ((cflags & 0x02) != 0)
                part = ".";
            else if ((cflags & 0x04) != 0)
                part = "..";
            else
                part = chars_at(e, off + 2, len);
            if (st.sl_separator)
                rr.symlink += '/';
            rr.symlink += part;
            st.sl_separator = (cflags & 0x01) == 0;
        }
        if (rr.symlink.size() > max_rr_symlink)
            return Error::corrupt(where, fmt::format("Rock Ridge symlink target longer than {} "
                                                     "bytes",
                                                     max_rr_symlink));
        off += 2 + std::size_t{len};
    }
    if ((flags & 0x01) == 0)
        st.sl_done = true;
    return {};
}

Result<void> parse_entry(State& st, std::span<const std::byte> e, std::string_view where) {
    RockRidge& rr = st.rr;
    const std::string_view sig = chars_at(e, 0, 2);
    const std::size_t len = e.size();
    auto need = [&](std::size_t n) -> Result<void> {
        if (len < n)
            return Error::corrupt(where, fmt::format("SUSP entry {} is {} bytes, less than its "
                                                     "{}",
                                                     sig, len, n));
        return {};
    };
    if (sig == "CE") {
        UKFS_TRY(need(28));
        st.ce = true;
        st.ce_lba = le32_at(e, 4);
        st.ce_off = le32_at(e, 12);
        st.ce_len = le32_at(e, 20);
    } else if (sig == "SP") {
        UKFS_TRY(need(7));
        if (u8_at(e, 4) == 0xBE && u8_at(e, 5) == 0xEF) {
            rr.sp = true;
            rr.sp_skip = u8_at(e, 6);
        }
    } else if (sig == "ER") {
        UKFS_TRY(need(8));
        const std::size_t id_len = u8_at(e, 4);
        if (8 + id_len > len)
            return Error::corrupt(where, "SUSP ER identifier runs past its entry");
        rr.er.emplace_back(chars_at(e, 8, id_len));
    } else if (sig == "PX") {
        UKFS_TRY(need(36));
        rr.any_rr = rr.px = true;
        rr.mode = le32_at(e, 4);
        rr.nlink = le32_at(e, 12);
        rr.uid = le32_at(e, 20);
        rr.gid = le32_at(e, 28);
    } else if (sig == "PN") {
        UKFS_TRY(need(20));
        rr.any_rr = rr.pn = true;
        rr.dev_high = le32_at(e, 4);
        rr.dev_low = le32_at(e, 12);
    } else if (sig == "NM") {
        UKFS_TRY(need(5));
        rr.any_rr = true;
        if (st.nm_done)
            return {};
        const std::uint8_t flags = u8_at(e, 4);
        rr.nm = true;
        if ((flags & 0x02) != 0)
            rr.nm_current = true;
        else if ((flags & 0x04) != 0)
            rr.nm_parent = true;
        else
            rr.name += chars_at(e, 5, len - 5);
        if (rr.name.size() > max_rr_name)
            return Error::corrupt(where, fmt::format("Rock Ridge name (NM) longer than {} bytes",
                                                     max_rr_name));
        if ((flags & 0x01) == 0)
            st.nm_done = true;
    } else if (sig == "SL") {
        UKFS_TRY(need(5));
        rr.any_rr = true;
        UKFS_TRY(parse_sl(st, e, where));
    } else if (sig == "CL") {
        UKFS_TRY(need(12));
        rr.any_rr = rr.cl = true;
        rr.cl_lba = le32_at(e, 4);
    } else if (sig == "PL") {
        UKFS_TRY(need(12));
        rr.any_rr = rr.pl = true;
        rr.pl_lba = le32_at(e, 4);
    } else if (sig == "RE") {
        rr.any_rr = rr.re = true;
    } else if (sig == "RR") {
        rr.any_rr = true;
    } else if (sig == "TF") {
        UKFS_TRY(need(5));
        rr.any_rr = true;
        const std::uint8_t flags = u8_at(e, 4);
        const std::size_t step = (flags & tf_long_form) != 0 ? 17 : 7;
        std::size_t off = 5;
        timespec* slots[] = {&rr.birthtime, &rr.mtime, &rr.atime, &rr.ctime};
        for (int bit = 0; bit < 7; ++bit) {
            if ((flags & (1u << bit)) == 0)
                continue;
            // makefs (NetBSD 9 era) writes TF one byte short: the last short-form stamp lacks
            // its GMT offset. Take such a stamp as UTC; a stamp missing more is dropped.
            std::array<std::byte, 17> stamp{};
            if (off + step > len && !(step == 7 && off + 6 == len))
                break;
            std::memcpy(stamp.data(), e.data() + off, std::min(step, len - off));
            if (bit < 4) {
                const std::span<const std::byte> b(stamp.data(), step);
                *slots[bit] = step == 17 ? time17(b) : time7(b);
                rr.tf = static_cast<std::uint8_t>(rr.tf | (1u << bit));
            }
            off += step;
        }
    }
    // PD, ES, SF, ZF and unknown entries carry nothing we use.
    return {};
}

// Walk the entries of one area. Returns false when ST ended the whole System Use field.
Result<bool> parse_area(State& st, std::span<const std::byte> area, std::string_view where) {
    std::size_t off = 0;
    while (off + 4 <= area.size()) {
        if (area[off] == std::byte{0})
            break;  // padding
        const std::size_t len = u8_at(area, off + 2);
        if (len < 4 || off + len > area.size())
            return Error::corrupt(where, fmt::format("SUSP entry {} at offset {} has length {} "
                                                     "(area of {} bytes)",
                                                     chars_at(area, off, 2), off, len,
                                                     area.size()));
        const auto e = area.subspan(off, len);
        if (chars_at(e, 0, 2) == "ST")
            return false;
        UKFS_TRY(parse_entry(st, e, where));
        off += len;
    }
    return true;
}

}  // namespace

bool is_rrip_id(std::string_view id) {
    return id == "RRIP_1991A" || id == "IEEE_P1282" || id == "IEEE_1282";
}

Result<RockRidge> parse_susp(io::BufferCache& cache, std::span<const std::byte> su,
                             std::size_t skip, std::string_view where) {
    State st;
    if (skip >= su.size())
        return st.rr;
    bool more = UKFS_TRY(parse_area(st, su.subspan(skip), where));
    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    std::size_t total = su.size();
    int hops = 0;
    while (more && st.ce) {
        st.ce = false;
        const std::string ce_where = fmt::format("{}: continuation area at block {} offset {}",
                                                 where, st.ce_lba, st.ce_off);
        if (++hops > max_continuations)
            return Error::corrupt(ce_where, fmt::format("more than {} continuation areas (CE)",
                                                        max_continuations));
        if (!seen.emplace(st.ce_lba, st.ce_off).second)
            return Error::corrupt(ce_where, "continuation areas (CE) form a loop");
        if (st.ce_off >= sector_size || st.ce_len > sector_size - st.ce_off)
            return Error::corrupt(ce_where, fmt::format("continuation area of {} bytes does not "
                                                        "fit in its block",
                                                        st.ce_len));
        total += st.ce_len;
        if (total > max_susp_bytes)
            return Error::corrupt(ce_where, fmt::format("System Use data longer than {} bytes",
                                                        max_susp_bytes));
        if (st.ce_lba >= cache.block_count())
            return Error::corrupt(ce_where, "continuation area past the end of the image");
        io::BufRef buf = UKFS_TRY(cache.get(st.ce_lba));
        more = UKFS_TRY(parse_area(st, buf.data().subspan(st.ce_off, st.ce_len), ce_where));
    }
    return std::move(st.rr);
}

}  // namespace uk::cd9660
