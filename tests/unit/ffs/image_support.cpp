// Test support for the ffs driver (see image_support.hpp).
#include "image_support.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "fs/ffs/register.hpp"

namespace uk::ffs::test {

namespace {

void make_files(const fs::path& root, const TreeOptions& o) {
    std::uint32_t seed = 1;
    fs::create_directory(root / "sizes");
    // Every fragment boundary up to three blocks, and one byte either side of it.
    for (std::uint64_t edge = 0; edge <= 3 * std::uint64_t{o.bsize}; edge += o.fsize) {
        for (const std::uint64_t s : {edge - 1, edge, edge + 1}) {
            if (edge == 0 && s != 0 && s != 1)
                continue;
            const fs::path p = root / "sizes" / fmt::format("size_{}", s);
            if (!fs::exists(p))
                write_host_file(p, pattern(static_cast<std::size_t>(s), seed++));
        }
    }
    write_host_file(root / "big", pattern((std::size_t{5} << 20) + 123, seed++));
    write_host_file(root / "hard_a", pattern(777, seed++));
    fs::create_directories(root / "d1/d2/d3/d4/d5/d6/d7/d8");
    write_host_file(root / "d1/d2/d3/d4/d5/d6/d7/d8/deep", pattern(10, seed++));
    fs::create_hard_link(root / "hard_a", root / "d1/hard_b");
    fs::create_hard_link(root / "hard_a", root / "d1/d2/hard_c");
    fs::create_directory(root / "emptydir");
    write_host_file(root / "empty", {});
    fs::create_directory(root / "many");
    for (int i = 0; i < o.many_entries; ++i)
        write_host_file(root / "many" / fmt::format("entry-{:04}-with-a-longer-name", i),
                        i % 100 == 0 ? pattern(static_cast<std::size_t>(i), seed++)
                                     : std::vector<std::byte>{});
    for (int i = 0; i < 40; ++i)
        fs::create_directory(root / "many" / fmt::format("subdir-{}", i));
}

void make_special(const fs::path& root) {
    fs::create_symlink("big", root / "fast_link");
    fs::create_symlink(std::string(59, 'a'), root / "link_59");  // UFS1's longest short link
    fs::create_symlink(std::string(60, 'b'), root / "link_60");
    fs::create_symlink(std::string(119, 'c'), root / "link_119");  // UFS2's longest short link
    fs::create_symlink(std::string(120, 'd'), root / "link_120");
    fs::create_symlink(std::string(100, 's') + "/target/beyond/120/bytes", root / "slow_link");
    fs::create_symlink(std::string(1000, 'L'), root / "long_link");
    fs::create_symlink("../big", root / "d1/up_link");
    uk::test::make_special_nodes(root);
}

}  // namespace

void build_tree(const fs::path& root, const TreeOptions& options) {
    fs::create_directories(root);
    make_files(root, options);
    make_special(root);
    uk::test::stamp_times(root);
}

Result<std::unique_ptr<vfs::Mount>> mount_device(std::shared_ptr<io::BlockDevice> dev,
                                                 std::size_t cache, bool writable) {
    vfs::MountRequest req;
    req.device = std::move(dev);
    req.flags = writable ? 0 : vfs::mnt_rdonly;
    req.cache_budget = cache;
    std::unique_ptr<vfs::FileSystem> fs = UKFS_TRY(mount_ffs(req));
    return vfs::Mount::create(std::move(fs), "ffs", req.flags);
}

Result<std::unique_ptr<vfs::Mount>> mount_image(const fs::path& img, std::size_t cache,
                                                bool writable) {
    std::shared_ptr<io::BlockDevice> dev = UKFS_TRY(io::ImageFile::open(img.string(), !writable));
    return mount_device(std::move(dev), cache, writable);
}

}  // namespace uk::ffs::test
