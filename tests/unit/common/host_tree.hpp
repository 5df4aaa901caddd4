// Test support shared by the driver suites that build images from a host tree: temporary
// directories, running the reference tools, host files, deterministic contents, fixed times,
// and the whole-tree comparison of a mounted image against its source.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/mount.hpp"

namespace uk::test {

namespace fs = std::filesystem;

// A directory under /tmp, removed with everything in it when the object goes.
class TempDir {
public:
    explicit TempDir(std::string_view tag = "test") {
        std::string tmpl = "/tmp/ukfs-" + std::string(tag) + "-XXXXXX";
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

// Whether `p` is a directory (not a symlink to one).
bool is_real_dir(const fs::path& p);
// Every path below `root`, parents before children, never following a symlink.
std::vector<fs::path> walk_host(const fs::path& root);
// Fixed times on every node below `root` (atime base + i, mtime base + 1000 + i with
// nanoseconds), directories last, since their children's creation changed them.
void stamp_times(const fs::path& root);

// A FIFO, set-id, sticky and mode-0 nodes; as root also character and block devices (one with
// a major and minor beyond 16 bits), owners beyond 16 bits, and the owner of the symlink
// root/fast_link (which the caller makes first).
void make_special_nodes(const fs::path& root);

// Compare everything under `src` with the same paths in the mount: names, types, modes,
// owners, sizes, link counts, mtimes (to the nanosecond when `nsec`), symlink targets, device
// numbers, file bytes, and each directory's listing (read in small batches to exercise
// cookies). `root_extra` are names the image's root holds beyond the source's (lost+found).
// Reports through gtest; returns the number of nodes compared.
std::size_t compare_tree(vfs::Mount& m, const fs::path& src, bool nsec,
                         const std::set<std::string>& root_extra = {});

// compare_tree's two halves, for one node: the attributes (and bytes, or target) of `path` in
// the mount against the host node `host`; and the names a directory `path` lists against the
// host directory's (each entry's inode number and type against its stat).
void compare_node(vfs::Mount& m, const fs::path& host, const std::string& path, bool nsec);
void compare_listing(vfs::Mount& m, const fs::path& host, const std::string& path,
                     const std::set<std::string>& root_extra = {});

// A cheap whole-file fingerprint to prove a read-only mount wrote nothing.
std::string file_digest(const fs::path& p);

}  // namespace uk::test
