// libFuzzer target for the FFS checker: the input is an image, checked in memory. Whatever the
// bytes, the check ends with a verdict (or a read error), never a crash, hang or huge allocation.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fs/ffs/check/fsck.hpp"
#include "io/block_device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::byte> bytes(size);
    if (size != 0)
        std::memcpy(bytes.data(), data, size);
    uk::io::MemoryDevice dev(std::move(bytes), true);
    std::size_t said = 0;
    auto r = uk::ffs::check::check(dev, {}, [&](std::string_view s) { said += s.size(); });
    (void)r;
    return 0;
}
