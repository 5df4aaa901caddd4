// VType <-> mode file type bits.
#include <sys/stat.h>

#include "vfs/vnode.hpp"

namespace uk::vfs {

std::uint32_t vtype_to_ifmt(VType t) {
    switch (t) {
    case VType::reg: return S_IFREG;
    case VType::dir: return S_IFDIR;
    case VType::lnk: return S_IFLNK;
    case VType::blk: return S_IFBLK;
    case VType::chr: return S_IFCHR;
    case VType::fifo: return S_IFIFO;
    case VType::sock: return S_IFSOCK;
    case VType::none: break;
    }
    return 0;
}

VType ifmt_to_vtype(std::uint32_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return VType::reg;
    case S_IFDIR: return VType::dir;
    case S_IFLNK: return VType::lnk;
    case S_IFBLK: return VType::blk;
    case S_IFCHR: return VType::chr;
    case S_IFIFO: return VType::fifo;
    case S_IFSOCK: return VType::sock;
    default: return VType::none;
    }
}

}  // namespace uk::vfs
