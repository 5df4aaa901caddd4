// Reading file contents in runs: files whose blocks lie one after another on disk, files whose
// blocks alternate with another file's, holes among the direct and the indirect blocks, and a
// tail in fragments, each read back whole and in pieces of awkward sizes and compared with what
// was written. In memory (mfs), so no tool is needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>

#include "fs/ffs/register.hpp"
#include "vfs/mount.hpp"
#include "vfs/registry.hpp"

namespace uk::ffs::test {
namespace {

std::vector<std::byte> bytes_of(std::size_t n, std::uint32_t seed) {
    std::vector<std::byte> v(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x = x * 1103515245u + 12345u;
        b = static_cast<std::byte>(x >> 16);
    }
    return v;
}

class FfsRead : public ::testing::Test {
protected:
    void SetUp() override {
        register_ffs(m_registry);
        auto driver = m_registry.find("mfs");
        ASSERT_TRUE(driver);
        vfs::MountRequest req;  // read-write, 32 MiB: 8 KiB blocks of 1 KiB fragments
        auto fsys = driver->mount(req);
        ASSERT_TRUE(fsys) << fsys.error().describe();
        auto made = vfs::Mount::create(std::move(*fsys), "mfs", req.flags);
        ASSERT_TRUE(made);
        m_mount = std::move(*made);
    }

    // Write `data` at `offset` of `path` (made if absent) and keep the model up to date.
    void put(const std::string& path, std::uint64_t offset, const std::vector<std::byte>& data) {
        auto fd = m_mount->open(path, O_WRONLY | O_CREAT, 0644);
        ASSERT_TRUE(fd) << fd.error().describe();
        auto n = m_mount->write_fd(*fd, offset, data, false);
        ASSERT_TRUE(n) << n.error().describe();
        ASSERT_EQ(*n, data.size());
        ASSERT_TRUE(m_mount->close(*fd));
        auto& model = m_model[path];
        if (model.size() < offset + data.size())
            model.resize(offset + data.size());  // a hole reads as zeros
        std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(offset));
    }

    // Read every file whole and in pieces of `piece` bytes, and compare with the model.
    void check(std::size_t piece) {
        for (const auto& [path, want] : m_model) {
            std::vector<std::byte> got(want.size() + 100);
            std::size_t at = 0;
            while (at < got.size()) {
                const std::size_t len = std::min(piece, got.size() - at);
                auto n = m_mount->read(path, at, std::span(got).subspan(at, len));
                ASSERT_TRUE(n) << path << " at " << at << ": " << n.error().describe();
                if (*n == 0)
                    break;
                ASSERT_LE(*n, len);
                at += *n;
            }
            ASSERT_EQ(at, want.size()) << path << " in pieces of " << piece;
            got.resize(at);
            ASSERT_TRUE(got == want) << path << " in pieces of " << piece;
        }
    }

    vfs::Registry m_registry;
    std::unique_ptr<vfs::Mount> m_mount;
    std::map<std::string, std::vector<std::byte>> m_model;
};

constexpr std::size_t bs = 8192;

TEST_F(FfsRead, ContiguousInterleavedHolesAndTails) {
    // One file written in one go: its blocks follow each other, past the 12 direct blocks and
    // across several groups of 64 pointers of the single indirect block.
    put("/straight", 0, bytes_of(300 * bs + 777, 1));
    // Two files written block by block in turn: their blocks alternate on disk.
    for (std::uint32_t i = 0; i < 40; ++i) {
        put("/a", i * bs, bytes_of(bs, 100 + i));
        put("/b", i * bs, bytes_of(i == 39 ? 1000 : bs, 200 + i));
    }
    // Holes: among the direct blocks, across the direct/indirect boundary, inside the indirect
    // block, and a tail in fragments after a hole.
    put("/holes", 2 * bs, bytes_of(bs + 5, 3));
    put("/holes", 11 * bs - 100, bytes_of(300, 4));
    put("/holes", 90 * bs, bytes_of(3 * bs, 5));
    put("/holes", 200 * bs + 1, bytes_of(2500, 6));
    // A small file: one fragment-sized tail only; an empty file.
    put("/small", 0, bytes_of(1500, 7));
    put("/empty", 0, {});
    for (const std::size_t piece : {std::size_t{1} << 20, std::size_t{131072}, bs, bs + 3,
                                    std::size_t{1000}, std::size_t{511}})
        check(piece);
    // The same once everything is written back (cached blocks clean rather than dirty).
    ASSERT_TRUE(m_mount->sync());
    check(std::size_t{65536} + 1);
}

}  // namespace
}  // namespace uk::ffs::test
