// The drivers built into the library. Each driver folder exposes one registration function.
#include "fs/cd9660/register.hpp"
#include "fs/ext2fs/register.hpp"
#include "fs/ffs/register.hpp"
#include "fs/msdosfs/register.hpp"
#include "fs/tmpfs/register.hpp"
#include "vfs/registry.hpp"

namespace uk::vfs {

void register_builtin_drivers(Registry& registry) {
    tmpfs::register_tmpfs(registry);
    ext2fs::register_ext2fs(registry);
    ffs::register_ffs(registry);
    cd9660::register_cd9660(registry);
    msdosfs::register_msdos(registry);
}

}  // namespace uk::vfs
