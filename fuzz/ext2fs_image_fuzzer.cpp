// libFuzzer target for the ext2fs driver: the input is an image, mounted read-only and walked
// by the shared harness (image_walk.hpp).
#include "fs/ext2fs/fs.hpp"
#include "image_walk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    uk::fuzz::mount_and_walk(uk::ext2fs::mount_ext2fs, "ext2fs", data, size);
    return 0;
}
