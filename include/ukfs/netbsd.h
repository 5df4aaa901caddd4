/*
 * NetBSD definitions that libukfs clients pass to ukfs: mount flags, file system type names,
 * chflags(2) flags, per-type mount argument structures and the dirent layout that
 * ukfs_getdents() writes. Values are NetBSD's (sys/fstypes.h, sys/mount.h, sys/stat.h,
 * sys/dirent.h, fs/tmpfs/tmpfs_args.h); each is defined only when the host has not defined it.
 */
#ifndef UKFS_NETBSD_H
#define UKFS_NETBSD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <errno.h>

/* NetBSD's errno for a version mismatch (ukfs_init); Linux has none, so it maps to ENOTSUP. */
#ifndef EPROGMISMATCH
#define EPROGMISMATCH ENOTSUP
#endif

/* File system type names (sys/mount.h). */
#ifndef MOUNT_FFS
#define MOUNT_FFS "ffs"
#define MOUNT_MFS "mfs"
#define MOUNT_EXT2FS "ext2fs"
#define MOUNT_MSDOS "msdos"
#define MOUNT_CD9660 "cd9660"
#define MOUNT_TMPFS "tmpfs"
#endif

/* Mount flags (sys/fstypes.h). */
#ifndef MNT_RDONLY
#define MNT_RDONLY 0x00000001
#define MNT_SYNCHRONOUS 0x00000002
#define MNT_NOEXEC 0x00000004
#define MNT_NOSUID 0x00000008
#define MNT_NODEV 0x00000010
#define MNT_UNION 0x00000020
#define MNT_ASYNC 0x00000040
#define MNT_NOCOREDUMP 0x00008000
#define MNT_RELATIME 0x00020000
#define MNT_IGNORE 0x00100000
#define MNT_DISCARD 0x00800000
#define MNT_EXTATTR 0x01000000
#define MNT_LOG 0x02000000
#define MNT_NOATIME 0x04000000
#define MNT_SYMPERM 0x20000000
#define MNT_NODEVMTIME 0x40000000
#define MNT_SOFTDEP 0x80000000
#define MNT_UPDATE 0x00010000
#define MNT_RELOAD 0x00040000
#define MNT_FORCE 0x00080000
#define MNT_GETARGS 0x00400000
#endif

/* chflags(2) flags (sys/stat.h). */
#ifndef UF_NODUMP
#define UF_NODUMP 0x00000001
#define UF_IMMUTABLE 0x00000002
#define UF_APPEND 0x00000004
#define UF_OPAQUE 0x00000008
#define SF_ARCHIVED 0x00010000
#define SF_IMMUTABLE 0x00020000
#define SF_APPEND 0x00040000
#define SF_SNAPSHOT 0x00200000
#define SF_LOG 0x00400000
#define SF_SNAPINVAL 0x00800000
#endif
#define UKFS_SETTABLE_FLAGS                                                                        \
    (UF_NODUMP | UF_IMMUTABLE | UF_APPEND | UF_OPAQUE | SF_ARCHIVED | SF_IMMUTABLE | SF_APPEND)

/*
 * The directory entry ukfs_getdents() writes: NetBSD's struct dirent (sys/dirent.h), whose
 * layout differs from the host's. Records are UKFS_DIRENT_RECLEN(namlen) bytes, 8-aligned; the
 * name is NUL-terminated. d_type takes the DT_* values, which Linux and NetBSD share.
 */
#define UKFS_MAXNAMLEN 511
struct ukfs_dirent {
    uint64_t d_fileno;
    uint16_t d_reclen;
    uint16_t d_namlen;
    uint8_t d_type;
    char d_name[UKFS_MAXNAMLEN + 1];
};
#define UKFS_DIRENT_NAMEOFF offsetof(struct ukfs_dirent, d_name)
#define UKFS_DIRENT_RECLEN(namlen) ((UKFS_DIRENT_NAMEOFF + (namlen) + 1 + 7) & ~(size_t)7)

/* tmpfs mount arguments (fs/tmpfs/tmpfs_args.h). */
#define TMPFS_ARGS_VERSION 1
struct tmpfs_args {
    int ta_version;
    ino_t ta_nodes_max; /* 0: no limit but memory */
    off_t ta_size_max;  /* bytes; 0: no limit but memory */
    uid_t ta_root_uid;
    gid_t ta_root_gid;
    mode_t ta_root_mode;
};

/* export_args30 is sys/mount.h's old NFS export argument layout, unused by ukfs: present so
 * that NetBSD code filling iso_args or msdosfs_args compiles with the same structure size. */
#ifndef UKFS_HAVE_EXPORT_ARGS30
#define UKFS_HAVE_EXPORT_ARGS30
struct ukfs_uucred30 {
    unsigned short cr_unused;
    uid_t cr_uid;
    gid_t cr_gid;
    int cr_ngroups;
    gid_t cr_groups[16];
};
struct export_args30 {
    int ex_flags;
    uid_t ex_root;
    struct ukfs_uucred30 ex_anon;
    struct sockaddr *ex_addr;
    int ex_addrlen;
    struct sockaddr *ex_mask;
    int ex_masklen;
    char *ex_indexfile;
};
#endif

/* ffs mount arguments (ufs/ufs/ufsmount.h); also what ext2fs_args is. */
#ifndef UKFS_HAVE_UFS_ARGS
#define UKFS_HAVE_UFS_ARGS
struct ufs_args {
    char *fspec; /* the block special file to mount */
};
#endif

/* mfs mount arguments (ufs/ufs/ufsmount.h): a new FFS in memory of `size` bytes (0: the
   default, 32 MiB). `base` is the kernel's memory and is ignored here. */
struct mfs_args {
    char *fspec;
    struct export_args30 _pad1;
    void *base;
    unsigned long size;
};

/* cd9660 mount arguments (isofs/cd9660/cd9660_mount.h). */
struct iso_args {
    const char *fspec;
    struct export_args30 _pad1;
    int flags;
};
#define ISOFSMNT_NORRIP 0x00000001      /* ignore Rock Ridge */
#define ISOFSMNT_GENS 0x00000002        /* keep version suffixes (";1") */
#define ISOFSMNT_EXTATT 0x00000004      /* use extended attribute records */
#define ISOFSMNT_NOJOLIET 0x00000008    /* ignore Joliet */
#define ISOFSMNT_NOCASETRANS 0x00000010 /* plain ISO names keep their upper case */
#define ISOFSMNT_RRCASEINS 0x00000020   /* case-insensitive Rock Ridge lookups */

/* msdos mount arguments (fs/msdosfs/msdosfsmount.h). */
struct msdosfs_args {
    char *fspec;
    struct export_args30 _pad1;
    uid_t uid;      /* owner of every file */
    gid_t gid;      /* group of every file */
    mode_t mask;    /* permission mask for files */
    int flags;      /* MSDOSFSMNT_* */
    int version;    /* MSDOSFSMNT_VERSION with MSDOSFSMNT_VERSIONED */
    mode_t dirmask; /* v2: permission mask for directories */
    int gmtoff;     /* v3: seconds east of UTC of the on-disk times */
};
#define MSDOSFSMNT_VERSION 3
#define MSDOSFSMNT_SHORTNAME 1
#define MSDOSFSMNT_LONGNAME 2
#define MSDOSFSMNT_NOWIN95 4
#define MSDOSFSMNT_GEMDOSFS 8
#define MSDOSFSMNT_VERSIONED 16
#define MSDOSFSMNT_UTF8 32
#define MSDOSFSMNT_MNTOPT \
    (MSDOSFSMNT_SHORTNAME | MSDOSFSMNT_LONGNAME | MSDOSFSMNT_NOWIN95 | MSDOSFSMNT_GEMDOSFS | \
     MSDOSFSMNT_VERSIONED | MSDOSFSMNT_UTF8)
#define MSDOSFSMNT_RONLY 0x80000000
#define MSDOSFSMNT_WAITONFAT 0x40000000
#define MSDOSFS_FATMIRROR 0x20000000

#endif /* UKFS_NETBSD_H */
