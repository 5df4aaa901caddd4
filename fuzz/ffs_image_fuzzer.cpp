// libFuzzer target for the ffs driver: the input is an image, mounted read-only and walked by
// the shared harness (image_walk.hpp).
#include "fs/ffs/fs.hpp"
#include "image_walk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    uk::fuzz::mount_and_walk(uk::ffs::mount_ffs, "ffs", data, size);
    return 0;
}
