// tmpfs under the mount's shared lock: many threads reading one file, listing and looking up
// at once while nothing writes. Run it under ThreadSanitizer or AddressSanitizer to see more.
#include <atomic>
#include <thread>

#include "fixture.hpp"

namespace uk::tmpfs::test {
namespace {

TEST_F(TmpfsTest, ConcurrentReadersOfOneFile) {
    mkdir("d");
    for (int i = 0; i < 20; ++i)
        make("d/f" + std::to_string(i));
    make("data");
    std::string content(1 << 20, '\0');
    for (std::size_t i = 0; i < content.size(); ++i)
        content[i] = static_cast<char>(i * 131 % 251);
    write("data", 0, content);
    write("data", 8u << 20, "sparse end");
    const InodeNo ino = stat("data").ino;
    const InodeNo dir = stat("d").ino;

    constexpr int threads = 8;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int round = 0; round < 200; ++round) {
                auto node = fs->load(ino);  // every thread loads its own vnode too
                if (!node) {
                    ++failures;
                    return;
                }
                const auto mix = static_cast<std::size_t>(t * 7919 + round * 104729);
                const std::size_t off = mix % (content.size() - 4096);
                std::string buf(4096, '\0');
                auto got = (*node)->read(off, std::as_writable_bytes(std::span<char>(buf)));
                if (!got || *got != 4096 || buf != content.substr(off, 4096))
                    ++failures;
                auto attr = (*node)->getattr();
                if (!attr || attr->size != (8u << 20) + 10)
                    ++failures;
                auto d = fs->load(dir);
                if (!d) {
                    ++failures;
                    return;
                }
                int entries = 0;
                auto listed = (*d)->readdir(0, [&](const vfs::DirEntry&, std::uint64_t) {
                    ++entries;
                    return true;
                });
                if (!listed || entries != 22)
                    ++failures;
                auto found = (*d)->lookup("f" + std::to_string(round % 20));
                if (!found || !fs->statfs())
                    ++failures;
            }
        });
    }
    for (auto& th : pool)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(read("data", 8u << 20, 100), "sparse end");
}

}  // namespace
}  // namespace uk::tmpfs::test
