// ukfs-fuse's operations kept outside main.cpp, and what they share with it.
#pragma once

#define FUSE_USE_VERSION 31

#include <cstddef>

#include <fuse.h>

#include <ukfs/ukfs.hpp>

namespace ukfs_fuse {

// The mounted image (main.cpp).
uk::Mount& mnt();
// An error to the kernel as -errno, printed when it says the image is damaged or with -d.
int fail(const char* path, const uk::Error& e);

// Extended attributes and file flags (attrs.cpp).
int op_setxattr(const char* path, const char* name, const char* value, size_t size, int flags);
int op_getxattr(const char* path, const char* name, char* value, size_t size);
int op_listxattr(const char* path, char* list, size_t size);
int op_removexattr(const char* path, const char* name);
int op_ioctl(const char* path, int cmd, void* arg, fuse_file_info* fi, unsigned int flags,
             void* data);

}  // namespace ukfs_fuse
