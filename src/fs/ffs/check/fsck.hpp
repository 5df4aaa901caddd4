// fsck for FFS: a read-only check of a UFS1 or UFS2 image, in the five phases of NetBSD's
// fsck_ffs (blocks and sizes, pathnames, connectivity, reference counts, cylinder groups), with
// its messages and its exit codes as if run with -n (every question answered "no"), and its
// phase 6 (Check Quotas) on a file system with NetBSD's in-file-system quotas (quota2).
//
// Exit codes (NetBSD fsck(8) and sbin/fsck/exitvalues.h): 0 when the file system is clean
// (FSCK_EXIT_OK); 8 when a problem was found and left unrepaired, or when the superblock cannot
// be used at all (FSCK_EXIT_CHECK_FAILED). fsck_ffs -n never exits 4 (that is "root modified")
// and never 1 here (usage errors are the tool's).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "io/block_device.hpp"

namespace uk::ffs::check {

inline constexpr int exit_ok = 0;
inline constexpr int exit_check_failed = 8;

struct CheckOptions {
    // fsck -p: a clean file system (fs_clean set) is not checked, and messages are prefixed
    // with the device name.
    bool preen = false;
};

struct CheckResult {
    int exit_code = exit_ok;
    // One line per problem, fsck_ffs' words without the inode dump: "UNREF FILE I=12",
    // "LINK COUNT FILE I=12 COUNT 2 SHOULD BE 1", "FREE BLK COUNT(S) WRONG IN SUPERBLK"...
    std::vector<std::string> problems;
    // "N files, N used, N free (N frags, N blocks, N.N% fragmentation)", or empty when the
    // check could not get that far.
    std::string summary_line;

    bool clean() const { return exit_code == exit_ok; }
    // True when some problem line starts with `message`.
    bool reported(std::string_view message) const;
};

// Check the file system on `dev` (never written). `out` receives fsck_ffs' output, a line or a
// few lines per call, each ending in a newline; pass {} to discard it. An error is returned only
// when the device itself fails to read; everything wrong on the image is a CheckResult.
Result<CheckResult> check(io::BlockDevice& dev, const CheckOptions& options,
                          std::function<void(std::string_view)> out);

}  // namespace uk::ffs::check
