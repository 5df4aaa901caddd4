// Test support for the ext2fs driver (see image_support.hpp).
#include "image_support.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "fs/ext2fs/register.hpp"

namespace uk::ext2fs::test {

namespace {

void make_files(const fs::path& root, const TreeOptions& o) {
    const std::size_t sizes[] = {0, 1, 59, 60, 61, 4095, 4096, 4097, 65537, 300000};
    std::uint32_t seed = 1;
    for (std::size_t s : sizes)
        write_host_file(root / fmt::format("file_{}", s), pattern(s, seed++));
    if (o.big_files) {
        write_host_file(root / "big", pattern((std::size_t{5} << 20) + 123, seed++));
        // A hole between two data runs; at 1 KiB blocks the second run is triple-indirect.
        const int fd = ::open((root / "sparse").c_str(), O_CREAT | O_WRONLY, 0644);
        const auto a = pattern(4096, seed++), b = pattern(5000, seed++);
        (void)!::pwrite(fd, a.data(), a.size(), 0);
        (void)!::pwrite(fd, b.data(), b.size(), off_t{70} << 20);
        ::close(fd);
    }
    write_host_file(root / "hard_a", pattern(777, seed++));
    fs::create_directories(root / "d1/d2/d3");
    write_host_file(root / "d1/d2/d3/deep", pattern(10, seed++));
    fs::create_hard_link(root / "hard_a", root / "d1/hard_b");
    fs::create_directory(root / "emptydir");
    fs::create_directory(root / "many");
    for (int i = 0; i < o.many_entries; ++i)
        write_host_file(root / "many" / fmt::format("entry-{:04}-with-a-longer-name", i),
                        i % 100 == 0 ? pattern(static_cast<std::size_t>(i), seed++)
                                     : std::vector<std::byte>{});
}

void make_special(const fs::path& root) {
    fs::create_symlink("file_1", root / "fast_link");
    fs::create_symlink(std::string(100, 's') + "/target", root / "slow_link");
    fs::create_symlink(std::string(1000, 'L'), root / "long_link");
    fs::create_symlink("../file_4097", root / "d1/up_link");
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
    std::unique_ptr<vfs::FileSystem> fs = UKFS_TRY(mount_ext2fs(req));
    return vfs::Mount::create(std::move(fs), "ext2fs", req.flags);
}

Result<std::unique_ptr<vfs::Mount>> mount_image(const fs::path& img, std::size_t cache,
                                                bool writable) {
    std::shared_ptr<io::BlockDevice> dev = UKFS_TRY(io::ImageFile::open(img.string(), !writable));
    return mount_device(std::move(dev), cache, writable);
}

}  // namespace uk::ext2fs::test
