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

#include "fs/ffs/fs.hpp"
#include "io/block_device.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::ffs::test {

namespace fs = std::filesystem;

// A directory under /tmp, removed with everything in it when the object goes.
class TempDir {
public:
    TempDir() {
        std::string tmpl = "/tmp/ukfs-ffs-XXXXXX";
        if (mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        m_path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

// Run a shell command; its exit status (-1 when it could not run).
inline int run(const std::string& cmd) {
    const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

// Run a shell command and return its standard output.
inline std::string capture(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen((cmd + " 2>/dev/null").c_str(), "r");
    if (f == nullptr)
        return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.append(buf, n);
    ::pclose(f);
    return out;
}

inline bool have_tool(const std::string& name) {
    return run("command -v " + name) == 0;
}

inline std::vector<std::byte> read_host_file(const fs::path& p) {
    std::vector<std::byte> out;
    const int fd = ::open(p.c_str(), O_RDONLY);
    if (fd < 0)
        return out;
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
        out.resize(static_cast<std::size_t>(st.st_size));
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n =
                ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        out.resize(done);
    }
    ::close(fd);
    return out;
}

inline void write_host_file(const fs::path& p, const std::vector<std::byte>& data) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(static_cast<const void*>(data.data())),
              static_cast<std::streamsize>(data.size()));
}

// Deterministic bytes that differ per file and per position.
inline std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::byte> v(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::byte>(x);
    }
    return v;
}

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

// Mount `img` read-only through the driver and the VFS.
Result<std::unique_ptr<vfs::Mount>> mount_image(const fs::path& img,
                                                std::size_t cache = std::size_t{8} << 20);
Result<std::unique_ptr<vfs::Mount>> mount_device(std::shared_ptr<io::BlockDevice> dev,
                                                 std::size_t cache = std::size_t{8} << 20);

// Compare everything under `src` with the same paths in the mount: names, types, modes,
// owners, sizes, link counts, mtimes (to the nanosecond when `nsec`), symlink targets, device
// numbers, file bytes, and each directory's listing (read in small batches to exercise
// cookies). Reports through gtest; returns the number of nodes compared.
std::size_t compare_tree(vfs::Mount& m, const fs::path& src, bool nsec);

// A cheap whole-file fingerprint to prove a read-only mount wrote nothing.
std::string file_digest(const fs::path& p);

}  // namespace uk::ffs::test
