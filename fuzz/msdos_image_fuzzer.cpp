// libFuzzer target for the msdos driver: the input is an image, mounted read-only and walked
// by the shared harness (image_walk.hpp).
#include "fs/msdosfs/fs.hpp"
#include "image_walk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    uk::fuzz::mount_and_walk(uk::msdosfs::mount_msdos, "msdos", data, size);
    return 0;
}
