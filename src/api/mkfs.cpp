// uk::mkfs and uk::fsck: the public entries to the drivers' mkfs and checkers, through the
// registry.
#include <ukfs/ukfs.hpp>

#include "vfs/attach.hpp"

namespace uk {

Result<void> mkfs(std::string_view type, std::string_view device, const MkfsOptions& options) {
    return vfs::format(type, device, options.size, options.params);
}

Result<int> fsck(std::string_view device, std::string_view type,
                 const std::function<void(std::string_view)>& out) {
    return vfs::check(type, device, out);
}

}  // namespace uk
