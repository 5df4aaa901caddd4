// Test support for the cd9660 driver: temporary directories, source trees, images made at test
// time by xorriso and makefs (the reference makers), mounting through the public C++ API, and
// a whole-tree comparison of a mount against its source with per-extension expectations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <ukfs/ukfs.hpp>

#include "common/host_tree.hpp"

namespace uk::cd9660::test {

namespace fs = std::filesystem;

using uk::test::have_tool;
using uk::test::pattern;
using uk::test::run;
using uk::test::TempDir;
bool is_root();
inline void write_file(const fs::path& p, const std::vector<std::byte>& data) {
    uk::test::write_host_file(p, data);
}
inline std::vector<std::byte> read_host(const fs::path& p) {
    return uk::test::read_host_file(p);
}
// To prove the image was not written.
inline std::string digest(const fs::path& p) {
    return uk::test::file_digest(p);
}

// The full tree: regular files (empty, small, multi-block, 3 MiB), a directory of 300 entries,
// nested directories, a chain of 12 directories (deep enough for relocation), symlinks
// (relative, absolute, with "..", a 300-byte target), a 200-byte name, a hard link, a FIFO, a
// character device and odd owners (as root), modes 0640/04755/0700, fixed mtimes.
void build_full_tree(const fs::path& root);
// Regular files and directories only, with names Joliet keeps (mixed case, UTF-8, <= 60
// characters), depth <= 6.
void build_joliet_tree(const fs::path& root);
// Regular files and directories with ISO 9660 level 1 names in lower case (8.3, no version).
void build_plain_tree(const fs::path& root);

struct Expect {
    bool modes = true;     // permission bits, owners, non-directory link counts from the
                           // source (else 0555, 0:0)
    bool times = true;     // mtime seconds from the source
    bool specials = true;  // symlinks, FIFOs, devices are in the image
    // The name the image shows for a source name.
    std::function<std::string(const std::string&)> name = [](const std::string& n) { return n; };
    // The symlink target the image holds for a source target.
    std::function<std::string(const std::string&)> link = [](const std::string& t) { return t; };
    // Root entries the image may add (relocation directories).
    std::vector<std::string> extra_root = {"rr_moved", ".rr_moved"};
};

// Compare everything under `src` with the mount; returns the number of nodes compared.
std::size_t compare_tree(const Mount& m, const fs::path& src, const Expect& expect);

MountOptions ro(const void* args = nullptr, std::size_t len = 0);

}  // namespace uk::cd9660::test
