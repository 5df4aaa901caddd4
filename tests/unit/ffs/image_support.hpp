// Test support for the ffs driver: temporary directories, a source tree with every kind of
// node, images made at test time by makefs -t ffs (the reference maker, ORACLES.md), mounting
// through the VFS, and a whole-tree comparison of an image against its source.
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
#include "fs/ffs/fs.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::ffs::test {

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
    std::uint32_t bsize = 8192;  // file sizes are chosen around this block's fragments
    std::uint32_t fsize = 1024;
    int many_entries = 2000;  // entries in "many"
};

// The source tree: regular files of every size from 0 to 3 blocks around each fragment
// boundary, a 5 MiB file (double indirect at 4 KiB blocks), a big directory, nested
// directories, short and long symlinks, hard links, a FIFO, device nodes and odd modes and
// owners (as root), and fixed nanosecond mtimes on everything.
void build_tree(const fs::path& root, const TreeOptions& options = {});

// makefs -t ffs OPTS IMG SRC. Returns makefs' status.
inline int make_image(const fs::path& src, const fs::path& img, const std::string& opts) {
    return run("makefs -t ffs " + opts + " " + img.string() + " " + src.string());
}

// Mount `img` through the driver and the VFS, read-only unless `writable`.
Result<std::unique_ptr<vfs::Mount>>
mount_image(const fs::path& img, std::size_t cache = std::size_t{8} << 20, bool writable = false);
Result<std::unique_ptr<vfs::Mount>> mount_device(std::shared_ptr<io::BlockDevice> dev,
                                                 std::size_t cache = std::size_t{8} << 20,
                                                 bool writable = false);

using uk::test::compare_tree;

// The independent readers of an FFS image (ORACLES.md): The Sleuth Kit finds a UFS1 superblock
// and a UFS2 one at 65536 only; GRUB's driver finds makefs' UFS2 at 8192 too, but reads
// little-endian FFS only. A big-endian UFS2 with its superblock at 8192 has neither.
enum class Reader { none, tsk, grub };

// The reader for `img`: TSK where it can, else GRUB; `why` says why there is none.
Reader pick_reader(const fs::path& img, std::string* why = nullptr);

struct ReaderOptions {
    // A regular file bigger than this is not streamed whole. The Sleuth Kit maps a file's
    // every block pointer before its first byte (minutes for gigabytes of holes): its bytes are
    // left unread, with a note. GRUB reads each of the model's runs of data and the hole
    // before it.
    std::uint64_t stream_limit = std::uint64_t{64} << 20;
};

// What an independent reader shows of `img` equals the host tree `model` (nothing more,
// nothing less). The Sleuth Kit: fsstat's type; fls -r's names and types; ils -a's owners,
// modes, link counts, sizes and mtimes (seconds) of every node, and istat's of a few of each
// type; icat's bytes and slow symlinks' targets. GRUB (grub-fstest, which knows no owners,
// modes, links or device numbers): ls's names and which are directories; ls -l's sizes and
// mtimes (seconds); the bytes. In a directory of more than 64 entries every name and inode is
// checked, but only every 16th file's bytes. Returns the reader used; with none, prints a note
// naming why.
Reader expect_reader_sees(const fs::path& img, const fs::path& model,
                          const ReaderOptions& options = {});

}  // namespace uk::ffs::test
