// Test support for the ext2fs driver: temporary directories, a source tree with every kind of
// node, images made at test time by mke2fs (the reference maker, ORACLES.md), mounting through
// the VFS, and a whole-tree comparison of an image against its source.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/host_tree.hpp"
#include "fs/ext2fs/fs.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::ext2fs::test {

namespace fs = std::filesystem;

using uk::test::capture;
using uk::test::file_digest;
using uk::test::have_tool;
using uk::test::pattern;
using uk::test::read_host_file;
using uk::test::run;
using uk::test::TempDir;
using uk::test::write_host_file;

struct TreeOptions {
    bool big_files = true;    // the 5 MiB file and the 70 MiB sparse one
    int many_entries = 2000;  // entries in "many" (an htree after e2fsck -D)
};

// The source tree: regular files of many sizes, a sparse file, a big directory, nested
// directories, fast and slow symlinks, hard links, a FIFO, device nodes and odd modes and
// owners (as root), and fixed nanosecond mtimes on everything.
void build_tree(const fs::path& root, const TreeOptions& options = {});

// mke2fs -q -F -t TYPE EXTRA -d SRC -E root_owner=0:0 IMG SIZE. Returns mke2fs' status.
inline int make_image(const fs::path& src, const fs::path& img, const std::string& type_and_opts,
                      const std::string& size = "32M") {
    return run("mke2fs -q -F -t " + type_and_opts + " -d " + src.string() + " -E root_owner=0:0 " +
               img.string() + " " + size);
}

// Mount `img` through the driver and the VFS, read-only unless `writable`.
Result<std::unique_ptr<vfs::Mount>>
mount_image(const fs::path& img, std::size_t cache = std::size_t{8} << 20, bool writable = false);
Result<std::unique_ptr<vfs::Mount>> mount_device(std::shared_ptr<io::BlockDevice> dev,
                                                 std::size_t cache = std::size_t{8} << 20,
                                                 bool writable = false);

// The whole-tree comparison (common/host_tree.hpp); the image's root also holds lost+found.
inline std::size_t compare_tree(vfs::Mount& m, const fs::path& src, bool nsec) {
    return uk::test::compare_tree(m, src, nsec, {"lost+found"});
}

}  // namespace uk::ext2fs::test
