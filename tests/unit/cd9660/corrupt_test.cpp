// Crafted damage to small xorriso images: every mount, walk and read either works or fails with
// a clear error naming the structure; nothing crashes, hangs or allocates without bound.
#include <cstring>

#include <gtest/gtest.h>

#include "fs/cd9660/fs.hpp"
#include "io/block_device.hpp"
#include "support.hpp"
#include "vfs/mount.hpp"

namespace uk::cd9660::test {
namespace {

}  // namespace
}  // namespace uk::cd9660::test
