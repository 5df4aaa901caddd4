// libFuzzer target for the cd9660 driver: the input is an image, mounted read-only and walked
// by the shared harness (image_walk.hpp). Its first byte (in the system area, which ISO 9660
// leaves unused) picks the iso_args flags (NORRIP, GENS, EXTATT, NOJOLIET, NOCASETRANS,
// RRCASEINS), so every name rule is reached.
#include <ukfs/netbsd.h>

#include "fs/cd9660/fs.hpp"
#include "image_walk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    iso_args args{};
    args.flags = size != 0 ? (data[0] & 0x3F) : 0;
    uk::fuzz::WalkLimits lim;
    lim.max_nodes = 2048;
    lim.max_name = 1024;  // Rock Ridge names may be longer than 255
    lim.max_batches = 1024;
    lim.cache_budget = std::size_t{2} << 20;
    uk::fuzz::mount_and_walk(uk::cd9660::mount_cd9660, "cd9660", data, size, lim, &args,
                             sizeof args);
    return 0;
}
