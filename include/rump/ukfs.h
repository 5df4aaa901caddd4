/* NetBSD clients include <rump/ukfs.h>; this is the same interface. */
#include <ukfs/ukfs.h>
