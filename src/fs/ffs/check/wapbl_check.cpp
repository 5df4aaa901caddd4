// fsck_ffs' handling of NetBSD's WAPBL log (sbin/fsck_ffs/wapbl.c and setup.c): the
// superblock's journal fields checked, and with FS_DOWAPBL the log read so that the whole check
// runs over the file system as replayed, without writing (-n). Every "CONTINUE? no" ends the
// check there, as fsck_ffs -n exits. The code is ours.
#include <fmt/format.h>

#include "fs/ffs/check/checker.hpp"
#include "fs/ffs/wapbl.hpp"

namespace uk::ffs::check {

Result<bool> Checker::check_wapbl(bool& journaled) {
    const Superblock& sb = m_g.sb;
    const Order& o = m_g.order;
    // ffs_superblock_layout() == 2: an old-format UFS1 superblock has no journal fields.
    if (!m_g.ufs2 && !m_g.flags_updated)
        return true;
    const auto halt = [&](std::string msg) {
        problem(msg, msg, "CONTINUE");
        m_abort = true;
        return false;
    };
    const std::uint32_t flags = o.u32(sb.fs_flags);
    const std::uint8_t location = sb.fs_journal_location;
    if ((flags & fs_dowapbl) != 0) {
        if (sb.fs_journal_version != ufs_wapbl_version)
            return halt(fmt::format("INVALID JOURNAL VERSION {}", sb.fs_journal_version));
        if (location != wapbl_journalloc_end_partition &&
            location != wapbl_journalloc_in_filesystem)
            return halt(fmt::format("INVALID JOURNAL LOCATION {}", location));
        auto log = WapblLog::read(m_raw, sb, o);
        if (!log) {
            // fsck_ffs' replay code prints why before the question.
            say(log.error().message() + "\n");
            return halt("UNABLE TO READ JOURNAL FOR REPLAY");
        }
        std::shared_ptr<io::BlockDevice> raw(&m_raw, [](io::BlockDevice*) {});
        m_replayed = std::make_shared<WapblOverlay>(std::move(raw), std::move(*log));
        journaled = true;
    }
    // fs_journal_flags: nothing, or one of CREATE_LOG and CLEAR_LOG with a known location
    // (CLEAR_LOG also with none).
    const std::uint32_t jflags = o.u32(sb.fs_journal_flags);
    if (jflags == wapbl_flags_create_log || jflags == wapbl_flags_clear_log) {
        const bool ok = location == wapbl_journalloc_end_partition ||
                        location == wapbl_journalloc_in_filesystem ||
                        (location == wapbl_journalloc_none && jflags == wapbl_flags_clear_log);
        if (!ok)
            return halt(fmt::format("INVALID JOURNAL LOCATION {}", location));
    } else if (jflags != 0) {
        return halt(fmt::format("INVALID JOURNAL FLAGS {}", static_cast<std::int32_t>(jflags)));
    }
    return true;
}

bool Checker::is_journal_inode(std::uint64_t ino, const Inode& di) const {
    const Superblock& sb = m_g.sb;
    return (di.flags & sf_log) != 0 && sb.fs_journal_version == ufs_wapbl_version &&
           sb.fs_journal_location == wapbl_journalloc_in_filesystem &&
           m_g.order.u64(sb.fs_journallocs[wapbl_loc_ino]) == ino;
}

}  // namespace uk::ffs::check
