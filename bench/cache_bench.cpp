// Buffer cache benchmarks: a sequential scan of a file-backed image through get() (with
// read-ahead), through read_direct(), and through plain pread() of the same bytes, reported as
// bytes per second; and the get() hit path, alone and from two threads.
//
// The image (UKFS_BENCH_IMAGE_MB, default 128 MiB, in $TMPDIR) is written once and then sits
// in the host's page cache, so these numbers measure the cost of each path in CPU and copies,
// not the disk. The pread() rows are the floor the cache paths are judged against.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "io/cache/buffer_cache.hpp"

using namespace uk;
using namespace uk::io;

namespace {

constexpr std::uint32_t block_size = 4096;
constexpr std::size_t chunk = std::size_t{1} << 20;  // read_direct and pread request size

std::uint64_t image_bytes() {
    const char* mb = std::getenv("UKFS_BENCH_IMAGE_MB");
    return (mb != nullptr ? std::strtoull(mb, nullptr, 10) : 128) << 20;
}

// The image file, made once per process and removed at exit.
class Image {
public:
    Image() {
        const char* dir = std::getenv("TMPDIR");
        m_path = std::string(dir != nullptr ? dir : "/tmp") + "/ukfs-cache-bench-XXXXXX";
        int fd = mkstemp(m_path.data());
        if (fd < 0)
            std::abort();
        std::vector<std::byte> bytes(chunk);
        std::mt19937_64 rng(42);
        for (std::uint64_t done = 0; done < image_bytes(); done += chunk) {
            for (auto& b : bytes)
                b = static_cast<std::byte>(rng());
            if (pwrite(fd, bytes.data(), chunk, static_cast<off_t>(done)) !=
                static_cast<ssize_t>(chunk))
                std::abort();
        }
        close(fd);
    }
    ~Image() { unlink(m_path.c_str()); }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

const Image& image() {
    static const Image instance;
    return instance;
}

std::shared_ptr<BlockDevice> open_image() {
    auto dev = ImageFile::open(image().path(), true);
    if (!dev)
        std::abort();
    return std::shared_ptr<BlockDevice>(std::move(*dev));
}

std::unique_ptr<BufferCache> make_cache(std::shared_ptr<BlockDevice> dev, std::size_t budget,
                                        std::uint32_t read_ahead) {
    auto cache = BufferCache::create(std::move(dev), block_size,
                                     CacheOptions{.budget_bytes = budget,
                                                  .read_ahead_blocks = read_ahead});
    if (!cache)
        std::abort();
    return std::move(*cache);
}

// Every block through get(), a fresh 16 MiB cache per pass: all misses, read ahead in runs of
// state.range(0) blocks (0: one request per block).
void BM_SequentialGet(benchmark::State& state) {
    auto dev = open_image();
    const auto read_ahead = static_cast<std::uint32_t>(state.range(0));
    for (auto _ : state) {
        auto cache = make_cache(dev, std::size_t{16} << 20, read_ahead);
        for (std::uint64_t b = 0; b < cache->block_count(); ++b) {
            auto ref = cache->get(b);
            if (!ref)
                state.SkipWithError(ref.error().describe().c_str());
            benchmark::DoNotOptimize(ref->data()[0]);
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * dev->size()));
}
BENCHMARK(BM_SequentialGet)->Arg(0)->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond);

// The whole image through read_direct() in 1 MiB requests, nothing cached.
void BM_SequentialReadDirect(benchmark::State& state) {
    auto dev = open_image();
    auto cache = make_cache(dev, std::size_t{16} << 20, 0);
    std::vector<std::byte> dst(chunk);
    for (auto _ : state) {
        for (std::uint64_t off = 0; off < dev->size(); off += chunk) {
            if (!cache->read_direct(off / block_size, dst))
                state.SkipWithError("read_direct failed");
            benchmark::DoNotOptimize(dst[0]);
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * dev->size()));
}
BENCHMARK(BM_SequentialReadDirect)->Unit(benchmark::kMillisecond);

// The floor: pread() of the same bytes, in state.range(0)-byte requests.
void BM_SequentialPread(benchmark::State& state) {
    const int fd = open(image().path().c_str(), O_RDONLY | O_CLOEXEC);
    const auto size = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> dst(size);
    for (auto _ : state) {
        for (std::uint64_t off = 0; off < image_bytes(); off += size) {
            if (pread(fd, dst.data(), size, static_cast<off_t>(off)) !=
                static_cast<ssize_t>(size))
                state.SkipWithError("pread failed");
            benchmark::DoNotOptimize(dst[0]);
        }
    }
    close(fd);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * image_bytes()));
}
BENCHMARK(BM_SequentialPread)->Arg(block_size)->Arg(chunk)->Unit(benchmark::kMillisecond);

// The hit path: random get() over 1024 cached blocks, one cache shared by all threads.
BufferCache& hot_cache() {
    static const std::unique_ptr<BufferCache> cache = [] {
        auto c = make_cache(open_image(), std::size_t{8} << 20, 0);
        for (std::uint64_t b = 0; b < 1024; ++b)
            if (!c->get(b))
                std::abort();
        return c;
    }();
    return *cache;
}

void BM_RandomGetHit(benchmark::State& state) {
    BufferCache& cache = hot_cache();
    std::mt19937_64 rng(static_cast<std::uint64_t>(state.thread_index()) + 1);
    for (auto _ : state) {
        auto ref = cache.get(rng() % 1024);
        benchmark::DoNotOptimize(ref->data()[0]);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RandomGetHit)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
