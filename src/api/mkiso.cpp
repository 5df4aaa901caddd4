// uk::make_iso: the public entry to the cd9660 image builder. Reads SOURCE_DATE_EPOCH (the
// reproducible-builds convention) so that the driver sees only options.
#include <cerrno>
#include <cstdlib>

#include <ukfs/ukfs.hpp>

#include "fs/cd9660/mkisofs.hpp"

namespace uk {

Result<void> make_iso(const std::string& source_dir, const std::string& image,
                      const IsoOptions& options) {
    cd9660::BuildOptions b;
    b.volume_id = options.volume_id;
    b.rock_ridge = options.rock_ridge;
    b.joliet = options.joliet;
    b.uid = options.uid;
    b.gid = options.gid;
    b.file_mode = options.file_mode;
    b.dir_mode = options.dir_mode;
    b.rational = options.rational;
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde != nullptr && *sde != '\0') {
        char* end = nullptr;
        errno = 0;
        const long long t = std::strtoll(sde, &end, 10);
        if (errno != 0 || *end != '\0' || t < 0)
            return Error::sys(EINVAL, "make_iso: SOURCE_DATE_EPOCH is not a number of seconds");
        b.clamp_time = t;
        b.volume_time = t;
    }
    if (options.volume_time)
        b.volume_time = options.volume_time;
    return cd9660::build_image(source_dir, image, b);
}

}  // namespace uk
