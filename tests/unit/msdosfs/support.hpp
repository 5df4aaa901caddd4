// Test support for the msdos driver: temporary directories, shell helpers, images made at test
// time by mkfs.fat and filled by mcopy (the reference tools, ORACLES.md), mounting through the
// VFS, and comparisons of a mount or an mcopy read-back with a host tree.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/host_tree.hpp"
#include "fs/msdosfs/fs.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"

namespace uk::msdosfs::test {

namespace fs = std::filesystem;

using uk::test::TempDir;

int run(const std::string& cmd);  // exit status; output discarded
std::string capture(const std::string& cmd);
bool have_tools();  // mkfs.fat, fsck.fat, mcopy, mdir

using uk::test::file_digest;
using uk::test::pattern;
using uk::test::read_host_file;
using uk::test::write_host_file;

// A tree FAT can hold: long and short names (both cases), deep directories, a directory with
// many entries, empty, small and large files; mtimes fixed (even seconds).
void build_tree(const fs::path& root, bool big = true);

// mkfs.fat -C IMG SIZE_KIB with OPTIONS; then, when `src` is given, mcopy -s -p -m -Q.
int make_image(const fs::path& img, const std::string& options, std::uint64_t kib,
               const fs::path& src = {});
// fsck.fat -n IMG: its exit status (0: clean).
int fsck(const fs::path& img);
// mcopy -s -n -m the image's root into `out` (created).
int mcopy_out(const fs::path& img, const fs::path& out);

Result<std::unique_ptr<vfs::Mount>> mount_image(const fs::path& img, bool read_only,
                                                const void* args = nullptr,
                                                std::size_t args_len = 0);

// Compare every node under `src` with the mount: listing names, types, sizes, bytes, and
// (files) mtimes to FAT's 2 s. Returns the number of nodes compared.
std::size_t compare_tree(vfs::Mount& m, const fs::path& src, bool mtimes = true);
// Compare two host trees: names, types and bytes.
void compare_host_trees(const fs::path& want, const fs::path& got);

}  // namespace uk::msdosfs::test
